import Foundation
import GoldCore
import GoldSpawn
import GoldTestSupport
import Testing

@testable import GoldCompile

#if canImport(Glibc)
    import Glibc
#endif

/// The real thing: gcc builds a small C project for two `-march` levels; a third machine reuses an artifact.
@Suite(.serialized) struct BinaryBuildTests {
    @Test func twoMarchLevelsTwoArtifactsAndAReuse() async throws {
        try requireFile("/usr/bin/gcc", package: "gcc")
        try requireFile("/usr/bin/make", package: "make")
        let dir = try TemporaryDirectory()
        let project = try CProject.write(into: dir)
        let store = try LocalArtifactStore(root: dir.path + "/store")
        let resolver = InputResolver()
        let runner = countingRunner()
        let hello = CProject.spec(project)

        let jobs = try await resolver.jobs(for: [
            machine("m1", binaries: [hello]), machine("m2", march: "x86-64-v3", binaries: [hello]),
        ])
        #expect(jobs.count == 2)
        let queue = MemoryCompileQueue()
        for job in jobs { await queue.submit(job) }
        let worker = CompileWorker(name: "w1", queue: queue, store: store, workDir: dir.path + "/work", runner: runner)
        var manifests: [String: ArtifactManifest] = [:]
        let started = ContinuousClock.now
        while let outcome = try await worker.runOnce() {
            guard case .artifact(let manifest, let reused) = outcome else {
                Issue.record("failed: \(outcome)")
                return
            }
            #expect(!reused)
            manifests[manifest.metadata.machines[0]] = manifest
        }
        let buildTime = ContinuousClock.now - started
        let baseline = try #require(manifests["m1"]?.metadata.binary)
        let v3 = try #require(manifests["m2"]?.metadata.binary)
        #expect(baseline.cflags == "-O2 -march=x86-64" && v3.cflags == "-O2 -march=x86-64-v3")
        #expect(baseline.outputs.map(\.path) == ["/usr/local/bin/hello", "/usr/local/share/hello/cflags"])
        #expect(baseline.outputs.map(\.mode) == [0o755, 0o640])
        #expect(baseline.outputs[0].sha256 != v3.outputs[0].sha256)
        let cflagsFile = try #require(manifests["m2"]?.file("usr/local/share/hello/cflags"))
        try store.fetch(sha256: cflagsFile.sha256, to: dir.path + "/cflags")
        #expect(try String(contentsOfFile: dir.path + "/cflags", encoding: .utf8) == "-O2 -march=x86-64-v3\n")
        let log = try #require(manifests["m1"]?.file("build.log"))
        try store.fetch(sha256: log.sha256, to: dir.path + "/m1.log")
        #expect(
            try String(contentsOfFile: dir.path + "/m1.log", encoding: .utf8).contains("-march=x86-64 -o hello hello.c")
        )

        // The baseline binary runs here and says what it was built for.
        let binary = try #require(manifests["m1"]?.file("usr/local/bin/hello"))
        try store.fetch(sha256: binary.sha256, to: dir.path + "/hello.bin")
        chmod(dir.path + "/hello.bin", 0o755)
        let run = try await SystemRunner().run(Invocation.build([dir.path + "/hello.bin"], in: dir.path))
        #expect(run.output == "hello from baseline x86-64\n")

        // A third machine like the first: same key, a new queue (as after a director restart), no build.
        let third = try await resolver.jobs(for: [machine("m3", binaries: [hello])])
        #expect(third.map(\.key) == [try #require(manifests["m1"]).key])
        let queue2 = MemoryCompileQueue()
        await queue2.submit(third[0])
        let commandsBefore = runner.commands.count
        let reuseStarted = ContinuousClock.now
        let outcome = try await CompileWorker(
            name: "w2", queue: queue2, store: store, workDir: dir.path + "/work2", runner: runner
        ).runOnce()
        let reuseTime = ContinuousClock.now - reuseStarted
        #expect(outcome == .artifact(try #require(manifests["m1"]), reused: true))
        #expect(runner.commands.count == commandsBefore)
        #expect(try await queue2.status(third[0].key)?.log.contains("reused artifact") == true)
        print("compile: C project, 2 machines built in \(buildTime); third machine reused in \(reuseTime)")
    }

    @Test func recipeThatInstallsNothingFails() async throws {
        let dir = try TemporaryDirectory()
        let project = try CProject.write(into: dir)
        let queue = MemoryCompileQueue()
        for job in try await InputResolver().jobs(for: [
            machine("m1", binaries: [CProject.spec(project, build: ["make"])])
        ]) {
            await queue.submit(job)
        }
        let worker = CompileWorker(
            name: "w1", queue: queue, store: try LocalArtifactStore(root: dir.path + "/store"),
            workDir: dir.path + "/work")
        let outcome = try await worker.runOnce()
        guard case .failure(let failure) = outcome else {
            Issue.record("expected a failure, got \(String(describing: outcome))")
            return
        }
        #expect(failure.step == "install" && failure.message.contains("DESTDIR"))
    }

    @Test func failingCommandNamesTheStepAndKeepsTheLog() async throws {
        let dir = try TemporaryDirectory()
        let project = try CProject.write(into: dir)
        try dir.write("hello/hello.c", "int main(void) { return syntax error; }\n")
        let queue = MemoryCompileQueue()
        let jobs = try await InputResolver().jobs(for: [machine("m1", binaries: [CProject.spec(project)])])
        await queue.submit(jobs[0])
        let worker = CompileWorker(
            name: "w1", queue: queue, store: try LocalArtifactStore(root: dir.path + "/store"),
            workDir: dir.path + "/work",
            configuration: .init(logInterval: .milliseconds(50)))
        let outcome = try await worker.runOnce()
        guard case .failure(let failure) = outcome else {
            Issue.record("expected a failure, got \(String(describing: outcome))")
            return
        }
        #expect(failure.step == "build" && failure.message.contains("exited 2") && failure.message.contains("error"))
        let log = try #require(try await queue.status(jobs[0].key)?.log)
        #expect(log.contains("FAILED at build"))
    }
}
