import Foundation
import Testing

@testable import GoldNetboot

#if canImport(Glibc)
    import Glibc
#endif

/// The real proof: Debian's kernel and the built initramfs boot under QEMU (TCG), load virtio, get a lease from
/// QEMU's user network and check in to a responder on the host's loopback with the machine's inventory.
@Suite(.serialized) struct QEMUBootTests {
    static var agentBinary: String {
        ProcessInfo.processInfo.environment["GOLD_AGENT_BINARY"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent(".build-agent/debug/gold-agent").path
    }

    @Test func bootsAndChecksIn() async throws {
        let qemu = try requireTool("qemu-system-x86_64", package: "qemu-system-x86")
        guard FileManager.default.isExecutableFile(atPath: Self.agentBinary) else {
            throw NetbootError(
                .missingInput,
                "no gold-agent at \(Self.agentBinary): run scripts/build-agent.sh debug (or set GOLD_AGENT_BINARY)")
        }
        let dir = try TemporaryDirectory()
        let output = ProcessInfo.processInfo.environment["GOLD_NETBOOT_OUTPUT"] ?? dir.path + "/netboot"
        let buildStart = Date()
        let compression =
            ProcessInfo.processInfo.environment["GOLD_NETBOOT_COMPRESSION"].flatMap(NetbootCompression.init(rawValue:))
            ?? .gzip
        let builder = NetbootBuilder(
            agentBinary: Self.agentBinary, outputDir: output, compression: compression,
            progress: { event in if case .step(let text) = event { print("netboot: \(text)") } })
        let artifacts = try await builder.build()
        print(
            "netboot: initrd \(artifacts.initrdSize) bytes (\(artifacts.archiveSize) uncompressed, \(artifacts.modules.count) modules) in \(String(format: "%.1f", Date().timeIntervalSince(buildStart))) s, cached: \(artifacts.cached)"
        )

        // The same inputs again: the same archive, found rather than rebuilt.
        let againStart = Date()
        let again = try await builder.build()
        #expect(
            again.cached && again.initrdPath == artifacts.initrdPath && again.initrdSHA256 == artifacts.initrdSHA256)
        print(
            "netboot: unchanged rebuild found the cached initrd in \(String(format: "%.1f", Date().timeIntervalSince(againStart))) s"
        )

        let responder = try CheckInResponder()
        defer { responder.stop() }
        let disk = dir.path + "/disk.img"
        let diskSize: UInt64 = 64 << 20
        #expect(FileManager.default.createFile(atPath: disk, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: disk))
        try handle.truncate(atOffset: diskSize)
        try handle.close()
        let log = dir.path + "/console.log"
        let commandLine = try NetbootCommandLine(
            director: "http://10.0.2.2:\(responder.port)", machine: "m1", token: "T", mode: .discovery,
            bootMAC: "52:54:00:12:34:56", console: "ttyS0"
        ).render()

        let process = Process()
        process.executableURL = URL(fileURLWithPath: qemu)
        process.arguments = [
            "-accel", "tcg", "-m", "1024", "-kernel", artifacts.kernelPath, "-initrd", artifacts.initrdPath, "-append",
            commandLine,
            "-nographic", "-serial", "file:\(log)", "-monitor", "none", "-netdev", "user,id=n0",
            "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56", "-drive", "file=\(disk),if=virtio,format=raw",
            "-no-reboot",
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let started = Date()
        try process.run()
        defer {
            // Only the QEMU this test started. SIGKILL: a child of Foundation's Process inherits the test runner's
            // blocked signal mask, and QEMU never sees a SIGTERM it has blocked.
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        let request = await responder.arrival(until: started.addingTimeInterval(300)) {
            $0.method == "POST" && $0.path == "/v1/machines/m1/check-in"
        }
        let console = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard let request else {
            Issue.record(
                "no check-in within 300 s; QEMU running: \(process.isRunning); console:\n\(console.suffix(4000))")
            return
        }
        print(
            "netboot: QEMU start to check-in \(String(format: "%.1f", request.at.timeIntervalSince(started))) s under TCG"
        )
        #expect(request.headers["authorization"] == "Bearer T")
        let checkIn = try JSONSerialization.jsonObject(with: request.body) as? [String: Any] ?? [:]
        let inventory = checkIn["inventory"] as? [String: Any] ?? [:]
        let disks = inventory["disks"] as? [[String: Any]] ?? []
        let nics = inventory["nics"] as? [[String: Any]] ?? []
        #expect(
            disks.contains {
                $0["name"] as? String == "vda" && ($0["sizeBytes"] as? NSNumber)?.uint64Value == diskSize
            }, "\(disks)")
        #expect(nics.contains { $0["mac"] as? String == "52:54:00:12:34:56" }, "\(nics)")
        #expect(inventory["firmware"] as? String == "bios")
        #expect(inventory["kernel"] as? String == artifacts.kernelVersion)
        // The markers arrive on the console around the check-in; give the serial file a moment.
        let deadline = Date().addingTimeInterval(30)
        var text = console
        while !text.contains("gold-agent: checked in as m1") && Date() < deadline {
            try await Task.sleep(for: .milliseconds(500))
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        }
        #expect(text.contains("gold-netboot: network up 10.0.2.15/24 on eth0"), "\(text.suffix(3000))")
        #expect(text.contains("gold-netboot: agent starting"))
        #expect(text.contains("gold-agent: checked in as m1"))
        // After check-in the agent asks for commands with its session token.
        let poll = await responder.arrival(until: Date().addingTimeInterval(60)) {
            $0.path.hasPrefix("/v1/agent/commands?machine=m1")
        }
        #expect(poll?.headers["authorization"] == "Bearer session-1")
        #expect(!text.contains("Kernel panic"))
        print("netboot: console tail:\n\(text.split(whereSeparator: \.isNewline).suffix(12).joined(separator: "\n"))")
    }
}
