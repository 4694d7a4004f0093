import Foundation
import GoldCompile
import GoldCore
import GoldSQLite
import Testing

/// The director's compile queue saved in SQLite: what a caller was told survives closing and reopening the store.
@Suite struct CompileQueueStoreTests {
    final class Clock: CompileClock, @unchecked Sendable {
        private let lock = NSLock()
        private var current = Date(timeIntervalSince1970: 1_700_000_000)
        func now() -> Date { lock.withLock { current } }
        func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
    }

    static func job(_ name: String, machine: String = "m1") -> CompileJob {
        CompileJob(
            machines: [machine],
            inputs: .binary(
                BinaryInputs(
                    name: name, sourceName: "dir:/src/\(name)",
                    source: SourceInput(layout: .directory, path: "/src/\(name)", identity: "sha256:\(name)"),
                    commands: ["make"], cflags: "-O2 -march=x86-64-v2", march: "x86-64-v2",
                    toolchain: "gcc (Debian 12.2.0-14) 12.2.0")))
    }

    @Test func jobsLeasesAndLogsSurviveReopening() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gold-queue-\(UUID().uuidString).db")
            .path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let clock = Clock()
        let a = Self.job("a")
        let b = Self.job("b")
        var lease: CompileLease
        do {
            let queue = try StoreCompileQueue(store: try SQLiteStore(path: path), clock: clock)
            try await queue.submit(a)
            try await queue.submit(b)
            try await queue.submit(Self.job("a", machine: "m2"))
            lease = try #require(try await queue.lease(worker: "w1", ttl: .seconds(30)))
            try await queue.appendLog(lease, "cc -c hello.c\n")
            clock.advance(20)
            lease = try await queue.heartbeat(lease)
        }
        // Reopened (a restarted director): the same jobs, order, lease, log.
        let queue = try StoreCompileQueue(store: try SQLiteStore(path: path), clock: clock)
        let all = try await queue.all()
        #expect(all.map(\.job.key) == [a.key, b.key])
        #expect(all[0].job.machines == ["m1", "m2"])
        #expect(all[0].state == .leased(lease) && all[0].attempts == 1 && all[0].log == "cc -c hello.c\n")
        // The worker carries on against the new director: its lease is still good.
        clock.advance(20)
        _ = try await queue.heartbeat(lease)
        try await queue.appendLog(lease, "done\n")
        let next = try #require(try await queue.lease(worker: "w2", ttl: .seconds(30)))
        #expect(next.job.key == b.key)

        // An expiry after the reopen hands the job out again with a higher attempt; the old lease is fenced out.
        clock.advance(31)
        let c = try #require(try await queue.lease(worker: "w3", ttl: .seconds(30)))
        #expect(c.job.key == a.key && c.attempt == 2)
        await #expect(throws: CompileError.self) { try await queue.appendLog(lease, "late\n") }
        let reopened = try StoreCompileQueue(store: try SQLiteStore(path: path), clock: clock)
        let status = try #require(try await reopened.status(a.key))
        #expect(status.attempts == 2 && status.log.hasPrefix("cc -c hello.c\ndone\n") && status.log.contains("expired"))
        #expect(!status.log.contains("late"))
        // b's lease ran out meanwhile too: it goes out again as attempt 2; a is held by w3, so nothing else is left.
        let d = try #require(try await reopened.lease(worker: "w4", ttl: .seconds(30)))
        #expect(d.job.key == b.key && d.attempt == 2)
        #expect(try await reopened.lease(worker: "w5", ttl: .seconds(30)) == nil)
    }

    @Test func anOlderRevisionNeverReplacesANewerOne() throws {
        let store = try SQLiteStore()
        var book = CompileQueueBook()
        _ = book.submit(Self.job("a"))
        let first = book.drain()
        _ = book.lease(worker: "w1", ttl: .seconds(30), now: Date())
        let second = book.drain()
        try store.saveCompileChanges(second)
        try store.saveCompileChanges(first)
        let loaded = try store.loadCompileJobs()
        #expect(loaded.entries.count == 1)
        guard case .leased = loaded.entries[0].state else {
            Issue.record("the stale 'queued' revision replaced the newer lease: \(loaded.entries[0].state)")
            return
        }
    }
}
