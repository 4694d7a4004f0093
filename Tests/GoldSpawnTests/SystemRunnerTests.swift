import Foundation
import GoldSpawn
import GoldTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The one way Gold runs a program, against real programs.
@Suite struct SystemRunnerTests {
    let runner = SystemRunner()

    func sh(_ script: String, timeout: Duration? = .seconds(30), output: Invocation.Output = .separate)
        -> Invocation
    {
        Invocation("/bin/sh", ["-c", script], output: output, timeout: timeout)
    }

    @Test func outputsAreCollectedApartOrMerged() async throws {
        let apart = try await runner.run(sh("echo out; echo err >&2; exit 3"))
        #expect(apart.exitCode == 3 && apart.stdout == "out\n" && apart.stderr == "err\n" && !apart.timedOut)
        #expect(!apart.succeeded && apart.summary == "exit 3: err")
        let merged = try await runner.run(sh("echo one; echo two >&2; echo three", output: .merged))
        #expect(merged.stdout == "one\ntwo\nthree\n" && merged.stderr.isEmpty)
    }

    @Test func aSignalIsReportedAs128PlusItsNumber() async throws {
        let result = try await runner.run(sh("kill -TERM $$"))
        #expect(result.exitCode == 128 + SIGTERM)
    }

    @Test func inputFromBytesOrAFile() async throws {
        let bytes = Data((0..<200_000).map { UInt8($0 % 251) })
        let counted = try await runner.run(Invocation("wc", ["-c"], input: .bytes(bytes), timeout: .seconds(30)))
        #expect(counted.stdout.trimmingCharacters(in: .whitespaces) == "200000\n")
        let file = NSTemporaryDirectory() + "/gold-spawn-test-\(UUID().uuidString)"
        defer { unlink(file) }
        try Data("from a file\n".utf8).write(to: URL(fileURLWithPath: file))
        let read = try await runner.run(Invocation("cat", [], input: .file(file), timeout: .seconds(30)))
        #expect(read.stdout == "from a file\n")
        let none = try await runner.run(Invocation("cat", [], timeout: .seconds(30)))
        #expect(none.succeeded && none.stdout.isEmpty)
    }

    @Test func outputToAFileAndAppendedToALog() async throws {
        let file = NSTemporaryDirectory() + "/gold-spawn-test-\(UUID().uuidString)"
        defer { unlink(file) }
        let written = try await runner.run(sh("echo data; echo note >&2", output: .standardOutputTo(file)))
        #expect(written.stdout.isEmpty && written.stderr == "note\n")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "data\n")
        _ = try await runner.run(sh("echo one; echo two >&2", output: .appendedTo(file)))
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "data\none\ntwo\n")
    }

    @Test func workingDirectoryAndEnvironment() async throws {
        let here = try await runner.run(Invocation("pwd", [], workingDirectory: "/usr/share", timeout: .seconds(30)))
        #expect(here.stdout == "/usr/share\n")
        let added = try await runner.run(
            Invocation(
                "/bin/sh", ["-c", "echo $GOLD_TEST_VALUE,${HOME:+home}"],
                environment: .inherited(adding: ["GOLD_TEST_VALUE": "x y"]), timeout: .seconds(30)))
        #expect(added.stdout == (ProcessInfo.processInfo.environment["HOME"] == nil ? "x y,\n" : "x y,home\n"))
        let only = try await runner.run(
            Invocation("/usr/bin/env", [], environment: .only(["A": "1"]), timeout: .seconds(30)))
        #expect(only.stdout == "A=1\n")
    }

    @Test func aMissingProgramOrDirectoryIsAnError() async throws {
        let missing = await #expect(throws: SpawnError.self) {
            try await runner.run(Invocation("gold-no-such-program", [], timeout: .seconds(5)))
        }
        #expect(missing?.reason == .notFound && missing?.program == "gold-no-such-program")
        let unwritable = await #expect(throws: SpawnError.self) {
            try await runner.run(
                Invocation("true", [], output: .standardOutputTo("/nonexistent/dir/file"), timeout: .seconds(5)))
        }
        #expect(unwritable?.reason == .cannotStart && unwritable?.description.contains("/nonexistent/dir/file") == true)
    }

    @Test func theDeadlineSendsTermThenKill() async throws {
        // The first program leaves on SIGTERM; the second ignores it and needs SIGKILL 2 s later.
        let polite = try await runner.run(
            sh("trap 'echo term; exit 7' TERM; echo started; while :; do sleep 0.1; done", timeout: .milliseconds(500)))
        #expect(polite.timedOut && polite.exitCode == 7 && polite.stdout == "started\nterm\n")
        let stubborn = try await runner.run(
            sh("trap '' TERM; while :; do sleep 0.1; done", timeout: .milliseconds(300)))
        #expect(stubborn.timedOut && stubborn.exitCode == 128 + SIGKILL)
    }

    @Test func cancellingTheCallerKillsTheWholeGroup() async throws {
        let marker = NSTemporaryDirectory() + "/gold-spawn-test-\(UUID().uuidString)"
        defer { unlink(marker) }
        // A child of the program writes its pid; cancelling must end it too.
        let task = Task { try await runner.run(sh("sleep 300 & echo $! > \(marker); wait", timeout: nil)) }
        var childPid: Int32?
        for _ in 0..<500 where childPid == nil {
            childPid = (try? String(contentsOfFile: marker, encoding: .utf8)).flatMap {
                Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let pid = try #require(childPid)
        task.cancel()
        let result = try await task.value
        #expect(result.exitCode == 128 + SIGKILL)
        #expect(try await Self.ends(pid))
    }

    /// True once `pid` is gone or a zombie (its parent, killed too, leaves the reaping to init), within 2 s.
    static func ends(_ pid: Int32) async throws -> Bool {
        for _ in 0..<200 {
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            if kill(pid, 0) != 0 || stat?.contains(") Z ") == true { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    @Test func aDaemonHoldingTheOutputDoesNotHoldTheRun() async throws {
        // qemu -daemonize: the program exits, a process in a session of its own keeps its output open. The run ends
        // when the program does, and the daemon (not in the program's group) is left running.
        // The script waits until the daemon leads a session of its own (stat field 6), as QEMU's parent waits for its
        // daemon to be set up; before that the daemon is still in the group, and the group is killed when sh exits.
        let result = try await runner.run(
            sh(
                #"setsid sleep 30 & p=$!; while [ "$(cut -d' ' -f6 /proc/$p/stat)" != "$p" ]; do sleep 0.01; done; echo $p"#,
                timeout: .seconds(60)))
        let daemon = try #require(Int32(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(daemon, SIGKILL) }
        #expect(result.succeeded)
        #expect(kill(daemon, 0) == 0)
    }

    @Test func whatTheProgramLeftInItsGroupIsKilled() async throws {
        let result = try await runner.run(sh("sleep 300 >/dev/null 2>&1 & echo $!"))
        let leftover = try #require(Int32(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try await Self.ends(leftover))
    }

    @Test func onlyTheEndOfAHugeOutputIsKept() async throws {
        let small = SystemRunner(outputLimit: 1000)
        let result = try await small.run(sh("seq 1 100000"))
        #expect(result.stdout.hasPrefix("[… first ") && result.stdout.hasSuffix("99999\n100000\n"))
        #expect(result.stdout.utf8.count < 1100)
    }

    @Test func locateSearchesTheGivenPathThenTheSystem() throws {
        let dir = NSTemporaryDirectory() + "/gold-spawn-path-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(
            FileManager.default.createFile(
                atPath: dir + "/ls", contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755]))
        #expect(SystemRunner.locate("ls", path: dir) == dir + "/ls")
        #expect(
            SystemRunner.locate("sh", path: dir) == "/usr/bin/sh" || SystemRunner.locate("sh", path: dir) == "/bin/sh")
        #expect(SystemRunner.locate("gold-no-such-program") == nil)
        #expect(SystemRunner.locate(dir + "/ls") == dir + "/ls")
    }

    @Test func theScriptedRunnerRecordsAndPassesOn() async throws {
        let fake = ScriptedRunner {
            $0.program == "ipmitool" ? InvocationResult(exitCode: 0, stdout: "Chassis Power is on\n") : nil
        }
        #expect(
            try await fake.run("ipmitool", ["power", "status"], timeout: .seconds(5)).stdout == "Chassis Power is on\n")
        #expect(try await fake.run("echo", ["real"], timeout: .seconds(5)).stdout == "real\n")
        #expect(fake.programs == ["ipmitool", "echo"])
        let replies = ScriptedRunner(replies: [InvocationResult(exitCode: 4)])
        #expect(try await replies.run("x", [], timeout: nil).exitCode == 4)
        #expect(try await replies.run("x", [], timeout: nil).exitCode == 99)
    }
}
