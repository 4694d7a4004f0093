import Foundation

/// An in-memory `CompileQueue` over a `CompileQueueBook`: for tests and for a compile role without a store.
public actor MemoryCompileQueue: CompileQueue {
    private let clock: any CompileClock
    private var book: CompileQueueBook

    public init(clock: any CompileClock = SystemCompileClock(), maxAttempts: Int = 3) {
        self.clock = clock
        self.book = CompileQueueBook(maxAttempts: maxAttempts)
    }

    @discardableResult public func submit(_ job: CompileJob) -> CompileJob { book.run { $0.submit(job) } }

    public func lease(worker: String, ttl: Duration) -> CompileLease? {
        let now = clock.now()
        return book.run { $0.lease(worker: worker, ttl: ttl, now: now) }
    }

    public func heartbeat(_ lease: CompileLease) throws -> CompileLease {
        let now = clock.now()
        return try book.run { try $0.heartbeat(lease, now: now) }
    }

    public func appendLog(_ lease: CompileLease, _ text: String) throws {
        let now = clock.now()
        try book.run { try $0.appendLog(lease, text, now: now) }
    }

    public func complete(_ lease: CompileLease, _ outcome: CompileOutcome) throws {
        let now = clock.now()
        try book.run { try $0.complete(lease, outcome, now: now) }
    }

    public func cancel(_ key: CacheKey) throws { try book.run { try $0.cancel(key) } }

    public func all() -> [CompileJobStatus] {
        let now = clock.now()
        return book.run { $0.all(now: now) }
    }

    public func status(_ key: CacheKey) -> CompileJobStatus? {
        let now = clock.now()
        return book.run { $0.status(key, now: now) }
    }
}

extension CompileQueueBook {
    /// Runs `body` and drops the changes it recorded (nothing persists them).
    mutating func run<T>(_ body: (inout CompileQueueBook) throws -> T) rethrows -> T {
        defer { _ = drain() }
        return try body(&self)
    }
}
