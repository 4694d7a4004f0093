import Foundation
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

    func gold(_ arguments: [String], env: [String: String] = [:]) throws -> (status: Int32, out: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DurabilityTests.binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(env) { _, new in new }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("gold-e2e-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let out = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: log)
        return (process.terminationStatus, out)
    }

    @Test func demoProvisionsEveryLabMachineThenRestoreAndDownLeaveNothing() throws {
        #expect(getuid() == 0, "the lab needs root (network namespaces, taps)")
        #expect(FileManager.default.isExecutableFile(atPath: Self.agent), "no static agent at \(Self.agent): run scripts/build-agent.sh debug")
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("gold-lab-e2e-\(UUID().uuidString)").path
        defer {
            _ = try? gold(["lab", "down", "--state-dir", state])
            try? FileManager.default.removeItem(atPath: state)
        }
        let demo = try gold(["lab", "demo", "--state-dir", state, "--machines", "2", "--agent", Self.agent])
        #expect(demo.status == 0, "gold lab demo failed:\n\(demo.out.suffix(6000))")
        for machine in ["lab-uefi-01", "lab-bios-01"] {
            // The summary table: machine, state ready, workflow succeeded.
            #expect(demo.out.split(separator: "\n").contains { $0.hasPrefix(machine) && $0.contains("ready") && $0.contains("succeeded") },
                "\(machine) not ready:\n\(demo.out.suffix(3000))")
            #expect(demo.out.contains("\(machine): ✔ write the image to the local disk"))
            #expect(demo.out.contains("\(machine): ✔ torture test"))
        }
        let console = try String(contentsOfFile: state + "/machines/lab-uefi-01/serial.log", encoding: .utf8)
        #expect(console.contains(">>Start PXE over IPv4"), "the UEFI machine did not PXE boot")
        #expect(console.contains("gold-agent: checked in as lab-uefi-01"))

        // Restore: reboot request and ack, netboot, delta write, boot from disk, checks, torture.
        let env = ["GOLD_DIRECTOR": "http://10.77.255.1:8080", "GOLD_TOKEN_FILE": state + "/gold/admin.token"]
        let restore = try gold(["restore", "lab-bios-01", "--watch"], env: env)
        #expect(restore.status == 0, "restore failed:\n\(restore.out.suffix(6000))")
        #expect(restore.out.contains("✔ write the image version (delta)"))
        #expect(restore.out.contains("unchanged"))

        let down = try gold(["lab", "down", "--state-dir", state])
        #expect(down.status == 0, "\(down.out)")
        #expect(down.out.contains("namespace gold-lab"))
        let namespaces = (try? String(contentsOfFile: "/proc/net/dev", encoding: .utf8)) ?? ""
        #expect(!namespaces.contains("goldlab-h"), "the lab's veth is still there")
        #expect(!FileManager.default.fileExists(atPath: "/run/netns/gold-lab"), "the lab's namespace is still there")
    }
}
