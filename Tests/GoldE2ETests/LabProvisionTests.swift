import Foundation
import GoldSpawn
import Testing

/// The real proof: `gold lab demo` brings up QEMU machines (one UEFI, one BIOS) on a private network and Gold
/// provisions each over its own DHCP, TFTP and HTTP: netboot, image written and verified, boot from disk, boot
/// success, checks, torture. Then a restore of one machine after damaging its disk, and `gold lab down` leaves
/// nothing behind. Needs root, QEMU and the statically linked agent (GOLD_AGENT_BINARY; scripts/test.sh builds it).
@Suite(.serialized) struct LabProvisionTests {
    static var agent: String {
        ProcessInfo.processInfo.environment["GOLD_AGENT_BINARY"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build-agent/debug/gold-agent").path
    }

    /// Runs `gold` with its output in a file: the lab's daemons it starts must not hold a pipe of ours open.
    func gold(_ arguments: [String], env: [String: String] = [:]) async throws -> (status: Int32, out: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("gold-e2e-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let environment = ProcessInfo.processInfo.environment.merging(env) { _, new in new }
        let result = try await Spawn.run("/bin/sh", ["-c", "exec \"$0\" \"$@\" >\(log) 2>&1", DurabilityTests.binary] + arguments,
            timeout: .seconds(1800), environment: environment)
        let out = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return (result.exitCode, out)
    }

    @Test func demoProvisionsEveryLabMachineThenRestoreAndDownLeaveNothing() async throws {
        #expect(getuid() == 0, "the lab needs root (network namespaces, taps)")
        #expect(FileManager.default.isExecutableFile(atPath: Self.agent), "no static agent at \(Self.agent): run scripts/build-agent.sh debug")
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("gold-lab-e2e-\(UUID().uuidString)").path
        defer {
            let cleanup = Cleanup(state: state, gold: DurabilityTests.binary)
            cleanup.run()
            try? FileManager.default.removeItem(atPath: state)
        }
        let demo = try await gold(["lab", "demo", "--state-dir", state, "--machines", "2", "--agent", Self.agent])
        #expect(demo.status == 0, "gold lab demo failed:\n\(demo.out.suffix(6000))")
        for machine in ["lab-uefi-01", "lab-bios-01"] {
            // The summary table: machine, state ready, workflow succeeded.
            #expect(demo.out.split(separator: "\n").contains { $0.hasPrefix(machine) && $0.contains("ready") && $0.contains("succeeded") },
                "\(machine) not ready:\n\(demo.out.suffix(3000))")
            #expect(demo.out.contains("\(machine): ✔ write the image to the local disk"))
            #expect(demo.out.contains("\(machine): ✔ torture test"))
        }
        // Firmware writes escape codes and stray bytes: decode leniently.
        let console = String(decoding: FileManager.default.contents(atPath: state + "/machines/lab-uefi-01/serial.log") ?? Data(), as: UTF8.self)
        #expect(console.contains(">>Start PXE over IPv4"), "the UEFI machine did not PXE boot")
        #expect(console.contains("gold-agent: checked in as lab-uefi-01"))

        // Restore: reboot request and ack, netboot, delta write, boot from disk, checks, torture.
        let env = ["GOLD_DIRECTOR": "http://10.77.255.1:8080", "GOLD_TOKEN_FILE": state + "/gold/admin.token"]
        let restore = try await gold(["restore", "lab-bios-01", "--watch"], env: env)
        #expect(restore.status == 0, "restore failed:\n\(restore.out.suffix(6000))")
        #expect(restore.out.contains("✔ write the image version (delta)"))
        #expect(restore.out.contains("unchanged"))

        let down = try await gold(["lab", "down", "--state-dir", state])
        #expect(down.status == 0, "\(down.out)")
        #expect(down.out.contains("namespace gold-lab"))
        let namespaces = (try? String(contentsOfFile: "/proc/net/dev", encoding: .utf8)) ?? ""
        #expect(!namespaces.contains("goldlab-h"), "the lab's veth is still there")
        #expect(!FileManager.default.fileExists(atPath: "/run/netns/gold-lab"), "the lab's namespace is still there")
    }
}

/// `gold lab down` from a `defer`, which cannot await: a blocking run of its own.
struct Cleanup {
    let state: String
    let gold: String
    func run() {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec \"$0\" lab down --state-dir \"$1\" >/dev/null 2>&1", gold, state]
        try? process.run()
        process.waitUntilExit()
    }
}
