import Synchronization
import Testing

@testable import GoldRunner

/// Transitions of one workflow take turns; another workflow's go on meanwhile.
@Suite struct KeyedSerialLockTests {
    final class Log: Sendable {
        let lines = Mutex<[String]>([])
        func add(_ line: String) { lines.withLock { $0.append(line) } }
        func has(_ line: String) -> Bool { lines.withLock { $0.contains(line) } }
        /// Lets other tasks run until `line` is logged, at most `turns` times.
        func wait(for line: String, turns: Int = 100_000) async {
            for _ in 0..<turns where !has(line) { await Task.yield() }
        }
    }

    @Test func aKeyTakesTurnsWhileAnotherKeyGoesOn() async {
        let lock = KeyedSerialLock()
        let log = Log()
        let (gate, open) = AsyncStream.makeStream(of: Void.self)
        let first = Task {
            await lock.withLock("wf-a") {
                log.add("a1 in")
                for await _ in gate { break }
                log.add("a1 out")
            }
        }
        await log.wait(for: "a1 in")
        let second = Task { await lock.withLock("wf-a") { log.add("a2 in") } }
        let other = Task { await lock.withLock("wf-b") { log.add("b in") } }
        // The other workflow's transition runs while wf-a's first one is still held; wf-a's second waits for it.
        await log.wait(for: "b in")
        open.yield()
        open.finish()
        await first.value
        await second.value
        await other.value
        let lines = log.lines.withLock { $0 }
        #expect(lines.firstIndex(of: "b in")! < lines.firstIndex(of: "a1 out")!, "\(lines)")
        #expect(lines.firstIndex(of: "a1 out")! < lines.firstIndex(of: "a2 in")!, "\(lines)")
        #expect(await lock.keysInUse == 0)
    }
}
