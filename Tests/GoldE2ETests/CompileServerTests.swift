import Foundation
import GoldSpawn
import Testing

/// The compile role on its own, as on a compile host of its own: `gold serve --roles compile` leases jobs from a
/// `gold serve --roles director` over HTTP and uploads artifacts to it. A worker killed with SIGKILL mid-build
/// loses its lease; a second worker builds the job; no artifact shows before the build that publishes it ends.
@Suite(.serialized) struct CompileServerTests {
    struct Setup {
        let dir: String
        let port: Int
        var env: [String: String] {
            ["GOLD_DIRECTOR": "http://127.0.0.1:\(port)", "GOLD_TOKEN_FILE": "\(dir)/admin.token"]
        }
    }

    func gold(_ arguments: [String], env: [String: String]) async throws -> (status: Int32, out: String) {
        let result = try await Spawn.run(
            DurabilityTests.binary, arguments, timeout: .seconds(120),
            environment: ProcessInfo.processInfo.environment.merging(env) { _, new in new })
        return (result.exitCode, result.output)
    }

    func serve(_ config: String, log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DurabilityTests.binary)
        process.arguments = ["serve", "--config", config]
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: log)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        return process
    }

    /// A job as `gold job show --json` prints it.
    func job(_ key: String, _ setup: Setup) async throws -> [String: Any] {
        let show = try await gold(["job", "show", key, "--json"], env: setup.env)
        return (try? JSONSerialization.jsonObject(with: Data(show.out.utf8)) as? [String: Any]) ?? [:]
    }

    func until(_ what: String, seconds: Int = 120, _ condition: () async throws -> Bool) async throws {
        let start = ContinuousClock.now
        let deadline = start + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if try await condition() {
                print("compile e2e: \(what) after \(ContinuousClock.now - start)")
                return
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        Issue.record("timed out waiting until \(what)")
        throw CancellationError()
    }

    @Test func killedCompileServerJobFinishesOnAnotherOverHTTP() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gold-compile-e2e-\(UUID().uuidString)")
            .path
        var processes: [Process] = []
        var orphan: Int32?
        defer {
            for process in processes where process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
            if let orphan {
                kill(orphan, SIGKILL)
                kill(-orphan, SIGKILL)
            }
            try? FileManager.default.removeItem(atPath: dir)
        }
        let setup = Setup(dir: dir, port: Int.random(in: 20000..<40000))
        #expect(try await gold(["init", "--data-dir", dir], env: [:]).status == 0)
        let base = try String(contentsOfFile: "\(dir)/gold.yaml", encoding: .utf8)
            .replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:\(setup.port)")
            .replacingOccurrences(of: "roles: [director, deploy, compile]", with: "roles: [director]")
        try base.write(toFile: "\(dir)/gold.yaml", atomically: true, encoding: .utf8)
        // Two compile servers: their own work directories, short leases, the server token gold init wrote.
        for worker in ["a", "b"] {
            let text = base.replacingOccurrences(of: "roles: [director]", with: "roles: [compile]")
                .replacingOccurrences(
                    of: "compile:\n  director: http://127.0.0.1:\(setup.port)",
                    with: """
                        compile:
                          director: http://127.0.0.1:\(setup.port)
                          work_dir: \(dir)/work-\(worker)
                          lease_seconds: 6
                          heartbeat_seconds: 1
                          poll_seconds: 1
                        """)
            #expect(text.contains("lease_seconds: 6"), "\(text)")
            try text.write(toFile: "\(dir)/compile-\(worker).yaml", atomically: true, encoding: .utf8)
        }

        // A small C project whose first build waits (records its pid, sleeps) until a gate file exists.
        let project = "\(dir)/hello"
        try FileManager.default.createDirectory(atPath: project, withIntermediateDirectories: true)
        try "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n".write(
            toFile: "\(project)/hello.c", atomically: true, encoding: .utf8)
        try
            "hello: hello.c\n\t$(CC) $(CFLAGS) -o hello hello.c\ninstall: hello\n\tinstall -D -m 0755 hello $(DESTDIR)$(PREFIX)/bin/hello\n"
            .write(toFile: "\(project)/Makefile", atomically: true, encoding: .utf8)
        let gate = "\(dir)/gate"
        let started = "\(dir)/started"
        try """
        machines:
          - name: m1
            macs: ["52:54:00:00:99:01"]
            cpu: {march: x86-64-v2}
            binaries:
              - name: hello
                source: "dir:\(project)"
                build: ['test -e \(gate) || { echo $$ > \(started); exec sleep 600; }', make, make install]
                installs: [/usr/local/bin/hello]

        """.write(toFile: "\(dir)/fleet.yaml", atomically: true, encoding: .utf8)

        processes.append(try serve("\(dir)/gold.yaml", log: "\(dir)/director.log"))
        try await until("the director answers") { try await gold(["machine", "list"], env: setup.env).status == 0 }
        let apply = try await gold(["fleet", "apply", "\(dir)/fleet.yaml"], env: setup.env)
        #expect(apply.status == 0, "\(apply.out)")
        let submit = try await gold(["job", "submit", "m1", "--json"], env: setup.env)
        #expect(submit.status == 0, "\(submit.out)")
        let submitted = (try? JSONSerialization.jsonObject(with: Data(submit.out.utf8)) as? [[String: Any]]) ?? []
        let key = try #require(submitted.first?["key"] as? String, "\(submit.out)")
        #expect(submitted.first?["state"] as? String == "queued")

        // Compile server A leases the job and builds; the director sees its log.
        let a = try serve("\(dir)/compile-a.yaml", log: "\(dir)/compile-a.log")
        processes.append(a)
        try await until("A builds") { FileManager.default.fileExists(atPath: started) }
        orphan = Int32(
            try String(contentsOfFile: started, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        try await until("A's log reaches the director") {
            try await gold(["job", "log", key], env: setup.env).out.contains("[build] /bin/sh -c test -e")
        }
        let building = try await job(key, setup)
        #expect(
            building["state"] as? String == "building"
                && (building["worker"] as? String)?.hasPrefix("compile@") == true, "\(building)")
        #expect(try await gold(["job", "show", key], env: setup.env).out.contains("attempts: 1"))

        // SIGKILL: no goodbye, no completion. Its build process dies with it here (a compile host's service manager
        // does that for a real one); nothing is published.
        kill(a.processIdentifier, SIGKILL)
        if let orphan {
            kill(orphan, SIGKILL)
            kill(-orphan, SIGKILL)
        }
        // (Foundation's wait returns only once the orphaned build no longer holds A's output open.)
        a.waitUntilExit()
        let blobs = "\(dir)/artifacts/manifests"
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: blobs)) ?? []).isEmpty)

        // Server B takes the job once A's lease (6 s) runs out, builds, uploads, publishes, completes.
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        processes.append(try serve("\(dir)/compile-b.yaml", log: "\(dir)/compile-b.log"))
        // B publishes the manifest right before it reports completion, so the manifest may show while the job still
        // reads "building" — but only once B (attempt 2) holds it: A, killed mid-build, must never have published.
        var sawManifestEarly: String?
        try await until("B finishes", seconds: 180) {
            let manifestShown = FileManager.default.fileExists(atPath: "\(blobs)/\(key).json")
            let current = try await job(key, setup)
            let state = current["state"] as? String
            if manifestShown, state != "succeeded", (current["attempts"] as? Int ?? 0) < 2 {
                sawManifestEarly = "\(current)"
            }
            return state == "succeeded" || state == "failed"
        }
        #expect(
            sawManifestEarly == nil,
            "the artifact was visible before B's attempt published it: \(sawManifestEarly ?? "")")
        let done = try await job(key, setup)
        #expect(done["state"] as? String == "succeeded" && done["attempts"] as? Int == 2, "\(done)")
        let b = processes.last!
        #expect(
            (done["worker"] as? String)?.hasSuffix(":\(b.processIdentifier)") == true,
            "built by \(String(describing: done["worker"])), not B (pid \(b.processIdentifier))")
        let log = try await gold(["job", "log", key], env: setup.env).out
        #expect(log.contains("expired") && log.contains("attempt 2 on compile@"), "\(log.suffix(2000))")

        // The artifact is on the director's store, every file whole; nothing is left half-uploaded.
        let manifestText = try String(contentsOfFile: "\(blobs)/\(key).json", encoding: .utf8)
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(manifestText.utf8)) as? [String: Any])
        let files = try #require(manifest["files"] as? [[String: Any]])
        #expect(files.contains { $0["name"] as? String == "usr/local/bin/hello" }, "\(files)")
        for file in files {
            let sha = try #require(file["sha256"] as? String)
            let data = try #require(FileManager.default.contents(atPath: "\(dir)/artifacts/blobs/\(sha)"))
            let check = try await Spawn.run(
                "/usr/bin/sha256sum", ["\(dir)/artifacts/blobs/\(sha)"], timeout: .seconds(30))
            #expect(check.output.hasPrefix(sha) && data.count == file["size"] as? Int)
        }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/artifacts/tmp")) ?? []).isEmpty)

        // The queue lives in the director's store: a restart of the director keeps the job and its log.
        let director = processes[0]
        kill(director.processIdentifier, SIGKILL)
        director.waitUntilExit()
        processes[0] = try serve("\(dir)/gold.yaml", log: "\(dir)/director-2.log")
        try await until("the director is back") { try await gold(["machine", "list"], env: setup.env).status == 0 }
        let after = try await job(key, setup)
        #expect(after["state"] as? String == "succeeded" && after["attempts"] as? Int == 2, "\(after)")
        #expect(try await gold(["job", "log", key], env: setup.env).out == log)
        // Asking again for the same machine reuses the artifact: no new build.
        let again = try await gold(["job", "submit", "m1", "--json"], env: setup.env)
        #expect(again.out.contains("\"succeeded\""), "\(again.out)")
    }
}
