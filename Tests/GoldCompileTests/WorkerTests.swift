import Foundation
import GoldCore
import GoldSpawn
import GoldTestSupport
import Testing

@testable import GoldCompile

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.serialized) struct WorkerTests {
    /// Frequent beats and log sends; a lease far longer than any stall of a loaded test run (the whole parallel suite
    /// has been seen to pause ~30 s at its start, which once outlasted a 30 s lease).
    static let fastBeats = CompileWorkerConfiguration(
        leaseTTL: .seconds(300), heartbeatInterval: .milliseconds(50), logInterval: .milliseconds(50))

    /// The kernel recipe, step by step, against a scripted runner that plays the kernel tree.
    @Test func kernelStepsInOrderWithReproducibleEnvironment() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("linux.tar.xz", "not really")
        let fixture =
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Fixtures/tinyconfig-lab.config"
        let src = dir.path + "/work/build/src"
        let runner = fakeRunner { command in
            let argv = command.argv
            if argv.contains("olddefconfig") {
                try FileManager.default.copyItem(atPath: fixture, toPath: src + "/.config")
            }
            if argv.contains("bzImage") {
                try FileManager.default.createDirectory(
                    atPath: src + "/arch/x86/boot", withIntermediateDirectories: true)
                for file in ["arch/x86/boot/bzImage", "System.map"] {
                    _ = FileManager.default.createFile(atPath: src + "/" + file, contents: Data(file.utf8))
                }
                if let log = command.logFile, let handle = FileHandle(forWritingAtPath: log) {
                    try handle.seekToEnd()
                    try handle.write(contentsOf: Data(String(repeating: "  CC      x.o\n", count: 10_000).utf8))
                    try handle.close()
                }
            }
            if argv.last == "kernelrelease" { return InvocationResult(exitCode: 0, stdout: "6.1.0-gold-lab\n") }
            return InvocationResult(exitCode: 0)
        }
        let resolver = InputResolver(runner: runner, debianSourceDirectory: dir.path)
        let spec = KernelSpec(
            source: "debian:linux", base: "tinyconfig", fragments: ["CONFIG_64BIT=y", "CONFIG_VIRTIO_BLK=y"],
            localVersion: "-gold-lab")
        let jobs = try await resolver.jobs(for: [machine("m1", kernel: spec), machine("m2", kernel: spec)])
        #expect(jobs.count == 1 && jobs[0].machines == ["m1", "m2"])
        let queue = MemoryCompileQueue()
        await queue.submit(jobs[0])
        let store = try LocalArtifactStore(root: dir.path + "/store")
        let worker = CompileWorker(
            name: "w1", queue: queue, store: store, workDir: dir.path + "/work", runner: runner,
            configuration: Self.fastBeats)
        let outcome = try await worker.runOnce()
        guard case .artifact(let manifest, false) = outcome else {
            Issue.record("\(String(describing: outcome))")
            return
        }

        let steps = runner.commands.filter { $0.argv.last != "--version" }.map { $0.argv.joined(separator: " ") }
        #expect(steps.count == 6)
        #expect(steps[0].hasPrefix("tar -xf \(dir.path)/linux.tar.xz"))
        #expect(steps[1] == "make LOCALVERSION= tinyconfig")
        #expect(steps[2] == "sh scripts/kconfig/merge_config.sh -m .config \(dir.path)/work/build/gold.config")
        #expect(steps[3] == "make LOCALVERSION= olddefconfig")
        #expect(steps[4] == "make LOCALVERSION= -j2 bzImage")
        #expect(steps[5] == "make LOCALVERSION= -s kernelrelease")
        let build = try #require(runner.commands.first { $0.argv.contains("bzImage") })
        #expect(
            build.environment.variables["KBUILD_BUILD_TIMESTAMP"] != nil
                && build.environment.variables["KBUILD_BUILD_USER"] == "gold")
        #expect(
            build.environment.variables["KBUILD_BUILD_HOST"] == "gold"
                && build.environment.variables["CCACHE_DIR"] == dir.path + "/work/ccache")

        #expect(manifest.files.map(\.name) == ["System.map", "build.log", "bzImage", "config", "metadata.json"])
        let kernel = try #require(manifest.metadata.kernel)
        #expect(kernel.release == "6.1.0-gold-lab" && !kernel.modules)
        #expect(
            kernel.optionsVerified == ["CONFIG_64BIT=y", "CONFIG_LOCALVERSION=\"-gold-lab\"", "CONFIG_VIRTIO_BLK=y"])
        #expect(kernel.configSHA256 == (try Hashing.sha256(file: fixture)))
        #expect(manifest.metadata.machines == ["m1", "m2"])

        // The log arrived in the queue whole, in chunks no larger than 64 KiB.
        let status = try #require(try await queue.status(jobs[0].key))
        #expect(status.log.components(separatedBy: "  CC      x.o\n").count == 10_001)
        #expect(status.log.contains("verified 3 requested options"))
        // The work dir is emptied after a published build.
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/work/build"))
    }

    /// A worker killed mid-build: its lease expires, a second worker builds the job, and nothing partial shows.
    @Test func killedWorkerJobFinishesOnAnother() async throws {
        let dir = try TemporaryDirectory()
        let project = try CProject.write(into: dir)
        let gate = dir.path + "/gate"
        let started = dir.path + "/started"
        // Only the first worker waits: by the time the second runs, the gate exists.
        let spec = CProject.spec(
            project, build: ["test -e \(gate) || { echo $$ > \(started); exec sleep 600; }", "make", "make install"])
        let clock = TestClock()
        let queue = MemoryCompileQueue(clock: clock)
        let job = try #require(try await InputResolver().jobs(for: [machine("m1", binaries: [spec])]).first)
        await queue.submit(job)
        let store = try LocalArtifactStore(root: dir.path + "/store")
        let first = CompileWorker(
            name: "w1", queue: queue, store: store, workDir: dir.path + "/w1", configuration: Self.fastBeats)
        let task = Task { try await first.runOnce() }
        while !FileManager.default.fileExists(atPath: started) { try await Task.sleep(for: .milliseconds(20)) }
        let leased = try await waitFor(queue, job.key) { if case .leased = $0 { true } else { false } }
        #expect(leased.attempts == 1)
        // The log streams while the build runs.
        while !(await queue.status(job.key)?.log.contains("[build] /bin/sh -c test -e") ?? false) {
            try await Task.sleep(for: .milliseconds(20))
        }

        task.cancel()
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
        let pid = try #require(
            Int32(try String(contentsOfFile: started, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) == -1 && errno == ESRCH, "the killed worker's build (sleep, pid \(pid)) is still running")
        #expect(try store.keys().isEmpty)

        // Still leased to the dead worker until its ttl passes; then a second worker gets it.
        let second = CompileWorker(
            name: "w2", queue: queue, store: store, workDir: dir.path + "/w2", configuration: Self.fastBeats)
        #expect(try await second.runOnce() == nil)
        clock.advance(seconds: 301)
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        let outcome = try await second.runOnce()
        guard case .artifact(let manifest, false) = outcome else {
            Issue.record("\(String(describing: outcome))")
            return
        }
        #expect(manifest.metadata.worker == "w2")
        let status = try #require(try await queue.status(job.key))
        #expect(status.attempts == 2 && status.state == .finished(.artifact(manifest, reused: false)))
        #expect(status.log.contains("expired") && status.log.contains("attempt 2 on w2"))

        // Exactly one artifact, complete: every file's blob is present with its hash; nothing left in tmp/.
        #expect(try store.keys() == [job.key])
        for file in manifest.files { #expect(try Hashing.sha256(file: store.blobPath(file.sha256)) == file.sha256) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.root + "/tmp").isEmpty)
    }

    /// Cancelling a job in the queue: the worker's next heartbeat is refused, the build is killed, nothing is
    /// published and the worker moves on.
    @Test func cancelledJobStopsTheBuild() async throws {
        let dir = try TemporaryDirectory()
        let project = try CProject.write(into: dir)
        let started = dir.path + "/started"
        let spec = CProject.spec(project, build: ["echo $$ > \(started); exec sleep 600", "make install"])
        let queue = MemoryCompileQueue()
        let job = try #require(try await InputResolver().jobs(for: [machine("m1", binaries: [spec])]).first)
        await queue.submit(job)
        let store = try LocalArtifactStore(root: dir.path + "/store")
        let worker = CompileWorker(
            name: "w1", queue: queue, store: store, workDir: dir.path + "/w1", configuration: Self.fastBeats)
        let task = Task { try await worker.runOnce() }
        while !FileManager.default.fileExists(atPath: started) { try await Task.sleep(for: .milliseconds(20)) }
        try await queue.cancel(job.key)
        #expect(try await task.value == nil)
        let pid = try #require(
            Int32(try String(contentsOfFile: started, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) == -1 && errno == ESRCH, "the cancelled build (sleep, pid \(pid)) is still running")
        #expect(await queue.status(job.key)?.state == .cancelled)
        #expect(try store.keys().isEmpty)
    }
}
