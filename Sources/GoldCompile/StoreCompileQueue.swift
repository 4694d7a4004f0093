import Foundation

/// Where a `StoreCompileQueue` keeps its book: the director's store. Calls are synchronous on purpose: the queue
/// saves each call's changes before it returns, in call order, so a restart finds exactly what callers were told.
public protocol CompileJobStore: Sendable {
    /// Every job and its log as last saved.
    func loadCompileJobs() throws -> (entries: [CompileQueueBook.Entry], logs: [CacheKey: String])
    /// Saves the changes of one call in one transaction: entries replace older revisions, log text is appended.
    func saveCompileChanges(_ changes: [CompileQueueBook.Change]) throws
}

/// The director's compile queue: the book in memory, every change saved to the store before the call returns, so
/// jobs, leases and logs survive a restart of the director, and workers on other hosts reach it over HTTP.
public actor StoreCompileQueue: CompileQueue {
    private let store: any CompileJobStore
    private let clock: any CompileClock
    private var book: CompileQueueBook

    public init(store: any CompileJobStore, clock: any CompileClock = SystemCompileClock(), maxAttempts: Int = 3) throws
    {
        self.store = store
        self.clock = clock
        let saved = try store.loadCompileJobs()
        book = CompileQueueBook(maxAttempts: maxAttempts, entries: saved.entries, logs: saved.logs)
    }

    /// Runs `body` on the book and saves what it changed; on a store error the book is reloaded from the store so
    /// memory never holds what the store does not.
    private func run<T>(_ body: (inout CompileQueueBook, Date) throws -> T) throws -> T {
        let result: T
        do { result = try body(&book, clock.now()) } catch {
            try persist()
            throw error
        }
        try persist()
        return result
    }

    private func persist() throws {
        let changes = book.drain()
        guard !changes.isEmpty else { return }
        do { try store.saveCompileChanges(changes) } catch {
            if let saved = try? store.loadCompileJobs() {
                book = CompileQueueBook(maxAttempts: book.maxAttempts, entries: saved.entries, logs: saved.logs)
            }
            throw CompileError(.io, "the compile queue could not save to the store: \(error)")
        }
    }

    @discardableResult public func submit(_ job: CompileJob) throws -> CompileJob {
        try run { book, _ in book.submit(job) }
    }
    public func lease(worker: String, ttl: Duration) throws -> CompileLease? {
        try run { $0.lease(worker: worker, ttl: ttl, now: $1) }
    }
    public func heartbeat(_ lease: CompileLease) throws -> CompileLease { try run { try $0.heartbeat(lease, now: $1) } }
    public func appendLog(_ lease: CompileLease, _ text: String) throws {
        try run { try $0.appendLog(lease, text, now: $1) }
    }
    public func complete(_ lease: CompileLease, _ outcome: CompileOutcome) throws {
        try run { try $0.complete(lease, outcome, now: $1) }
    }
    public func cancel(_ key: CacheKey) throws { try run { book, _ in try book.cancel(key) } }
    public func all() throws -> [CompileJobStatus] { try run { $0.all(now: $1) } }
    public func status(_ key: CacheKey) throws -> CompileJobStatus? { try run { $0.status(key, now: $1) } }
}
