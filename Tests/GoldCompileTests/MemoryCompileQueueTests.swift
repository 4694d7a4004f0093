import Foundation
import Testing

@testable import GoldCompile

@Suite struct MemoryCompileQueueTests {
    static func job(_ name: String, machines: [String] = ["m1"]) -> CompileJob {
        CompileJob(
            machines: machines,
            inputs: .binary(
                BinaryInputs(
                    name: name, sourceName: "dir:/x",
                    source: SourceInput(layout: .directory, path: "/x", identity: "sha256:\(name)"),
                    commands: ["make"], cflags: "-O2 -march=x86-64", march: "x86-64", toolchain: "gcc")))
    }

    static func artifact(_ job: CompileJob) -> CompileOutcome {
        .artifact(
            ArtifactManifest(
                key: job.key, files: [],
                metadata: ArtifactMetadata(
                    key: job.key, kind: job.kind, inputs: job.inputs, machines: job.machines, worker: "w")),
            reused: false)
    }

    /// A worker's output is kept up to 16 MiB per job, then one note; the log never grows past it.
    @Test func aJobsLogIsBounded() async throws {
        let queue = MemoryCompileQueue(clock: TestClock())
        let job = Self.job("a")
        await queue.submit(job)
        let lease = try #require(try await queue.lease(worker: "w1", ttl: .seconds(30)))
        let megabyte = String(repeating: "  CC      x.o\n", count: (1 << 20) / 14)
        for _ in 0..<20 { try await queue.appendLog(lease, megabyte) }
        let log = try #require(try await queue.status(job.key)).log
        #expect(log.utf8.count <= (16 << 20) + 512)  // the limit and the note
        #expect(log.utf8.count > 15 << 20)
        #expect(log.hasSuffix("the rest is not kept here (the artifact's build.log has it all)\n"))
    }

    @Test func leasesInOrderAndNeverTwice() async throws {
        let queue = MemoryCompileQueue(clock: TestClock())
        let a = Self.job("a")
        let b = Self.job("b")
        await queue.submit(a)
        await queue.submit(b)
        let first = try #require(try await queue.lease(worker: "w1", ttl: .seconds(30)))
        let second = try #require(try await queue.lease(worker: "w2", ttl: .seconds(30)))
        #expect(first.job.key == a.key && first.attempt == 1)
        #expect(second.job.key == b.key)
        #expect(try await queue.lease(worker: "w3", ttl: .seconds(30)) == nil)
    }

    @Test func expiredLeaseGoesToAnotherWorkerAndFencesTheFirst() async throws {
        let clock = TestClock()
        let queue = MemoryCompileQueue(clock: clock)
        let job = Self.job("a")
        await queue.submit(job)
        let first = try #require(try await queue.lease(worker: "w1", ttl: .seconds(30)))

        // Heartbeats keep it: 25 s + 25 s is past the first ttl, but each beat extends it.
        clock.advance(seconds: 25)
        _ = try await queue.heartbeat(first)
        clock.advance(seconds: 25)
        #expect(try await queue.lease(worker: "w2", ttl: .seconds(30)) == nil)

        // No heartbeat past the ttl: leased again, attempt 2.
        clock.advance(seconds: 31)
        let second = try #require(try await queue.lease(worker: "w2", ttl: .seconds(30)))
        #expect(second.attempt == 2 && second.worker == "w2")

        // The first worker can no longer beat, log or complete.
        for action in [
            { _ = try await queue.heartbeat(first) }, { try await queue.appendLog(first, "late") },
            { try await queue.complete(first, Self.artifact(job)) },
        ] as [@Sendable () async throws -> Void] {
            let error = await #expect(throws: CompileError.self) { try await action() }
            #expect(error?.code == .leaseLost)
        }
        try await queue.appendLog(second, "built\n")
        try await queue.complete(second, Self.artifact(job))
        let status = try #require(try await queue.status(job.key))
        #expect(status.state == .finished(Self.artifact(job)))
        #expect(!status.log.contains("late") && status.log.contains("expired") && status.log.hasSuffix("built\n"))
        #expect(try await queue.lease(worker: "w3", ttl: .seconds(30)) == nil)
    }

    @Test func sameWorkerLeasingAgainDoesNotReviveOldLease() async throws {
        let clock = TestClock()
        let queue = MemoryCompileQueue(clock: clock)
        let job = Self.job("a")
        await queue.submit(job)
        let old = try #require(try await queue.lease(worker: "w1", ttl: .seconds(10)))
        clock.advance(seconds: 11)
        let new = try #require(try await queue.lease(worker: "w1", ttl: .seconds(10)))
        #expect(new.attempt == 2)
        await #expect(throws: CompileError.self) { try await queue.complete(old, Self.artifact(job)) }
        try await queue.complete(new, Self.artifact(job))
    }

    @Test func failsAfterMaxAttempts() async throws {
        let clock = TestClock()
        let queue = MemoryCompileQueue(clock: clock, maxAttempts: 2)
        let job = Self.job("a")
        await queue.submit(job)
        for worker in ["w1", "w2"] {
            #expect(try await queue.lease(worker: worker, ttl: .seconds(10)) != nil)
            clock.advance(seconds: 11)
        }
        #expect(try await queue.lease(worker: "w3", ttl: .seconds(10)) == nil)
        let status = try #require(try await queue.status(job.key))
        guard case .finished(.failure(let failure)) = status.state else {
            Issue.record("not failed: \(status.state)")
            return
        }
        #expect(failure.step == "lease" && failure.message.contains("w2"))
    }

    @Test func cancelStopsTheHolder() async throws {
        let queue = MemoryCompileQueue(clock: TestClock())
        let job = Self.job("a")
        await queue.submit(job)
        let lease = try #require(try await queue.lease(worker: "w1", ttl: .seconds(30)))
        try await queue.cancel(job.key)
        let error = await #expect(throws: CompileError.self) { _ = try await queue.heartbeat(lease) }
        #expect(error?.code == .leaseLost)
        #expect(try await queue.status(job.key)?.state == .cancelled)
        await #expect(throws: CompileError.self) { try await queue.cancel(Self.job("zzz").key) }
    }

    @Test func submitMergesMachinesAndRequeuesFailures() async throws {
        let queue = MemoryCompileQueue(clock: TestClock())
        await queue.submit(Self.job("a", machines: ["m1"]))
        let merged = await queue.submit(Self.job("a", machines: ["m2"]))
        #expect(merged.machines == ["m1", "m2"])
        let lease = try #require(try await queue.lease(worker: "w1", ttl: .seconds(30)))
        #expect(lease.job.machines == ["m1", "m2"])
        try await queue.complete(lease, .failure(CompileFailure(step: "build", message: "boom")))
        #expect(try await queue.lease(worker: "w1", ttl: .seconds(30)) == nil)
        await queue.submit(Self.job("a", machines: ["m3"]))
        let again = try #require(try await queue.lease(worker: "w1", ttl: .seconds(30)))
        #expect(again.attempt == 2 && again.job.machines == ["m1", "m2", "m3"])
    }
}
