import Foundation
import GoldCore
import GoldSpawn
import GoldTestSupport
import Testing

@testable import GoldAgentKit
@testable import GoldImage

/// What `grub-editenv` would hold: the fake below edits it so tests can read it back.
final class GrubEnvironment: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String: String] = [:]
    var values: [String: String] { lock.withLock { stored } }
    func edit(_ change: (inout [String: String]) -> Void) -> [String: String] {
        lock.withLock {
            change(&stored)
            return stored
        }
    }
}

/// Runs no program: `grub-editenv` edits `grub`, everything else succeeds silently.
func recordingRunner(_ grub: GrubEnvironment = GrubEnvironment()) -> ScriptedRunner {
    ScriptedRunner { command in
        let arguments = command.arguments
        guard command.program == "grub-editenv", arguments.count >= 2 else { return InvocationResult(exitCode: 0) }
        let env = grub.edit { env in
            switch arguments[1] {
            case "set":
                for pair in arguments.dropFirst(2) {
                    let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                    env[parts[0]] = parts[1]
                }
            case "unset": for name in arguments.dropFirst(2) { env[name] = nil }
            default: break
            }
        }
        return InvocationResult(
            exitCode: 0, stdout: env.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "\n"))
    }
}

/// A class so that `deinit` removes each test's scratch directory, whatever the test did.
@Suite final class KernelInstallTests {
    let scratch: String
    let config: String

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("gold-kernel-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch + "/root/boot/grub", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            atPath: scratch + "/root/proc/sys/kernel", withIntermediateDirectories: true)
        config =
            GrubConfig(
                machine: "m1", kernels: [.init(version: "6.1.0-28-amd64")], bootFilesystemUUID: "fs-uuid",
                bootPathPrefix: "/boot",
                rootFilesystemUUID: "fs-uuid", environmentFilesystemUUID: "fs-uuid",
                environmentPath: "/boot/grub/grubenv", boot: .bios,
                kernelArguments: "console=ttyS0 panic=10", timeoutSeconds: 1, netbootArguments: ""
            ).rendered
        try config.write(toFile: scratch + "/root/boot/grub/grub.cfg", atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: scratch) }

    @Test func blkidExportIsParsed() {
        let devices = BlockDevice.parse(
            blkidExport: """
                DEVNAME=/dev/vda1
                PARTUUID=1111-part

                DEVNAME=/dev/vda2
                UUID=fs-uuid
                BLOCK_SIZE=4096
                TYPE=ext4
                PARTUUID=2222-part
                """)
        #expect(devices.map(\.device) == ["/dev/vda1", "/dev/vda2"])
        #expect(devices[1] == BlockDevice(device: "/dev/vda2", type: "ext4", uuid: "fs-uuid", partUUID: "2222-part"))
    }

    @Test func aKernelGoesInForOneBootThenIsPromotedOrRemoved() async throws {
        let grub = GrubEnvironment()
        let runner = recordingRunner(grub)
        let netboot = LiveHandlers(mode: .netboot, runner: runner)
        let disk = MountedDisk(
            mounts: [scratch + "/root"], bootDir: scratch + "/root/boot", rootDir: scratch + "/root",
            envFile: scratch + "/root/boot/grub/grubenv",
            devices: [BlockDevice(device: "/dev/vda2", type: "ext4", uuid: "fs-uuid", partUUID: "2222-PART")])
        let result = try await netboot.installKernel(
            release: "6.1.192-gold", kernel: Array("bzImage".utf8), modules: nil, disk: disk)
        #expect(result.ok, "\(result.detail ?? "")")
        #expect(try String(contentsOfFile: scratch + "/root/boot/vmlinuz-6.1.192-gold", encoding: .utf8) == "bzImage")
        let cfg = try String(contentsOfFile: scratch + "/root/boot/grub/grub.cfg", encoding: .utf8)
        #expect(GrubMenuEdit.kernels(in: cfg) == ["6.1.0-28-amd64", "6.1.192-gold"])
        #expect(cfg.contains("root=PARTUUID=2222-part"))
        // One trial boot: next_entry only; the default is untouched.
        #expect(grub.values == ["next_entry": "gold-kernel-6.1.192-gold"])

        let installed = LiveHandlers(mode: .installed, runner: runner, root: scratch + "/root")
        try "6.1.0-28-amd64\n".write(
            toFile: scratch + "/root/proc/sys/kernel/osrelease", atomically: true, encoding: .utf8)
        // Promoting a kernel that is not running is refused.
        #expect(try await !installed.promoteKernel(release: "6.1.192-gold").ok)
        // The trial failed: the old kernel runs; the entry, the file and the pending one-shot go.
        let removed = try await installed.removeKernel(release: "6.1.192-gold")
        #expect(removed.ok)
        #expect(try String(contentsOfFile: scratch + "/root/boot/grub/grub.cfg", encoding: .utf8) == config)
        #expect(!FileManager.default.fileExists(atPath: scratch + "/root/boot/vmlinuz-6.1.192-gold"))
        #expect(grub.values.isEmpty)

        // Installed again, booted, promoted: saved_entry names it.
        _ = try await netboot.installKernel(
            release: "6.1.192-gold", kernel: Array("bzImage".utf8), modules: nil, disk: disk)
        try "6.1.192-gold\n".write(
            toFile: scratch + "/root/proc/sys/kernel/osrelease", atomically: true, encoding: .utf8)
        #expect(try await !installed.removeKernel(release: "6.1.192-gold").ok, "the running kernel is never removed")
        #expect(try await installed.promoteKernel(release: "6.1.192-gold").ok)
        #expect(grub.values["saved_entry"] == "gold-kernel-6.1.192-gold")
    }

    @Test func aDiskWithoutGoldBootFilesIsRefused() async throws {
        let handlers = LiveHandlers(mode: .netboot, runner: recordingRunner())
        let result = try await handlers.installKernel(
            release: "x", kernel: [1], modules: nil,
            disk: MountedDisk(devices: [BlockDevice(device: "/dev/vda1", type: "vfat")]))
        #expect(!result.ok)
        #expect(result.detail?.contains("no Gold boot filesystem") == true)
    }
}
