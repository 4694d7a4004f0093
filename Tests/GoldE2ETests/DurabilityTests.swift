import Foundation
import Testing

/// Runs the real `gold` binary: init, serve, apply the sample fleet, SIGKILL the director, serve again.
@Suite(.serialized) struct DurabilityTests {
    static var binary: String {
        // A copy of `gold` the lab test can run while the tree is rebuilt.
        if let given = ProcessInfo.processInfo.environment["GOLD_E2E_BINARY"] { return given }
        // The test bundle sits beside the executables SwiftPM built.
        let bundle = Bundle.main.bundleURL.deletingLastPathComponent()
        for candidate in [
            bundle.appendingPathComponent("gold").path,
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("gold")
                .path,
        ] {
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return bundle.appendingPathComponent("gold").path
    }

    static var repo: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    @discardableResult
    func gold(_ arguments: [String], env: [String: String] = [:]) throws -> (status: Int32, out: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(env) { _, new in new }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func startServer(_ dir: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", "--config", "\(dir)/gold.yaml", "--roles", "director"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        return process
    }

    func waitUntilUp(_ env: [String: String]) async throws {
        for _ in 0..<100 {
            if try gold(["machine", "list"], env: env).status == 0 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the director did not come up")
    }

    @Test func sigkillLosesNothing() async throws {
        #expect(
            FileManager.default.isExecutableFile(atPath: Self.binary), "build the gold executable first: \(Self.binary)"
        )
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gold-e2e-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try gold(["init", "--data-dir", dir]).status == 0)
        let port = Int.random(in: 20000..<40000)
        let configPath = "\(dir)/gold.yaml"
        let config = try String(contentsOfFile: configPath, encoding: .utf8).replacingOccurrences(
            of: "127.0.0.1:8080", with: "127.0.0.1:\(port)")
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let env = ["GOLD_DIRECTOR": "http://127.0.0.1:\(port)", "GOLD_TOKEN_FILE": "\(dir)/admin.token"]

        var server = try startServer(dir)
        try await waitUntilUp(env)
        let apply = try gold(["fleet", "apply", "\(Self.repo)/examples/fleet.yaml"], env: env)
        #expect(apply.status == 0, "\(apply.out)")
        #expect(apply.out.contains("applied: 2 added"))
        let before = try gold(["machine", "list", "--json"], env: env).out
        let eventsBefore = try gold(["events", "--json"], env: env).out

        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        #expect(server.terminationReason == .uncaughtSignal)

        server = try startServer(dir)
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        try await waitUntilUp(env)
        #expect(try gold(["machine", "list", "--json"], env: env).out == before)
        #expect(try gold(["events", "--json"], env: env).out == eventsBefore)
        let again = try gold(["fleet", "apply", "\(Self.repo)/examples/fleet.yaml"], env: env)
        #expect(again.out.contains("no changes"))
    }

    @Test func oneLineErrorsAndExitCodes() throws {
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).yaml").path
        try "machines:\n  - {name: a, macs: [\"zz\"]}\n".write(toFile: bad, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: bad) }
        let result = try gold(["fleet", "validate", bad])
        #expect(result.status != 0)
        #expect(result.out.contains("\(bad):2 machines[a].macs[0]: 'zz' is not a MAC address"))
        let unreachable = try gold(
            ["machine", "list"], env: ["GOLD_DIRECTOR": "http://127.0.0.1:1", "GOLD_TOKEN": "x"])
        #expect(unreachable.status != 0)
        #expect(unreachable.out.contains("cannot reach the director"))
    }
}
