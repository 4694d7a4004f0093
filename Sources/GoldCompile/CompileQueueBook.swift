import Foundation

/// The compile queue's rules as a value: FIFO, one lease per job at a time, expired leases handed out again, a job
/// failed once `maxAttempts` leases in a row have expired. Attempt numbers only grow, so a stale lease never matches
/// a later one. `MemoryCompileQueue` holds one in memory; `StoreCompileQueue` persists what each call changed.
public struct CompileQueueBook: Sendable {
    /// One job as the book keeps it; `revision` grows with every change so a store keeps only the newest.
    public struct Entry: Hashable, Sendable, Codable {
        public var job: CompileJob
        public var state: CompileJobState
        public var attempts: Int
        public var order: Int
        /// Leases that expired since the job was last submitted.
        public var expiries: Int
        public var revision: Int
    }

    /// What a call changed, in order: the entries to save and the log text to append.
    public enum Change: Hashable, Sendable {
        case entry(Entry)
        case log(key: CacheKey, text: String)
    }

    public let maxAttempts: Int
    private(set) var entries: [CacheKey: Entry] = [:]
    private(set) var logs: [CacheKey: String] = [:]
    private var nextOrder = 0
    /// Changes not yet taken by `drain()`.
    private var pending: [Change] = []

    public init(maxAttempts: Int = 3) {
        self.maxAttempts = maxAttempts
    }

    /// A book rebuilt from what a store kept.
    public init(maxAttempts: Int = 3, entries: [Entry], logs: [CacheKey: String]) {
        self.maxAttempts = maxAttempts
        for entry in entries { self.entries[entry.job.key] = entry }
        self.logs = logs
        nextOrder = (entries.map(\.order).max() ?? -1) + 1
    }

    /// The changes since the last call, oldest first.
    public mutating func drain() -> [Change] {
        defer { pending = [] }
        return pending
    }

    public mutating func submit(_ job: CompileJob) -> CompileJob {
        if var entry = entries[job.key] {
            entry.job.machines = Array(Set(entry.job.machines + job.machines)).sorted()
            switch entry.state {
            case .finished(.failure), .cancelled:
                entry.state = .queued
                entry.expiries = 0
                entry.order = nextOrder
                nextOrder += 1
            case .queued, .leased, .finished(.artifact): break
            }
            save(entry)
            return entry.job
        }
        save(Entry(job: job, state: .queued, attempts: 0, order: nextOrder, expiries: 0, revision: 0))
        nextOrder += 1
        return job
    }

    public mutating func lease(worker: String, ttl: Duration, now: Date) -> CompileLease? {
        expireLeases(now: now)
        guard var entry = entries.values.filter({ $0.state == .queued }).min(by: { $0.order < $1.order }) else {
            return nil
        }
        entry.attempts += 1
        let lease = CompileLease(
            job: entry.job, worker: worker, attempt: entry.attempts, ttl: ttl, expires: now + ttl.timeInterval)
        entry.state = .leased(lease)
        save(entry)
        if entry.attempts > 1 { log(entry.job.key, "--- attempt \(lease.attempt) on \(worker) ---\n") }
        return lease
    }

    public mutating func heartbeat(_ lease: CompileLease, now: Date) throws -> CompileLease {
        var current = try currentLease(lease, now: now)
        current.expires = now + current.ttl.timeInterval
        var entry = entries[lease.job.key]!
        entry.state = .leased(current)
        save(entry)
        return current
    }

    public mutating func appendLog(_ lease: CompileLease, _ text: String, now: Date) throws {
        _ = try currentLease(lease, now: now)
        log(lease.job.key, text)
    }

    public mutating func complete(_ lease: CompileLease, _ outcome: CompileOutcome, now: Date) throws {
        _ = try currentLease(lease, now: now)
        var entry = entries[lease.job.key]!
        entry.state = .finished(outcome)
        save(entry)
    }

    public mutating func cancel(_ key: CacheKey) throws {
        guard var entry = entries[key] else { throw CompileError(.notFound, "no compile job \(key.short)") }
        switch entry.state {
        case .queued, .leased:
            entry.state = .cancelled
            save(entry)
        case .finished, .cancelled: break
        }
    }

    /// Every job, oldest first.
    public mutating func all(now: Date) -> [CompileJobStatus] {
        expireLeases(now: now)
        return entries.values.sorted { $0.order < $1.order }.map(status)
    }

    public mutating func status(_ key: CacheKey, now: Date) -> CompileJobStatus? {
        expireLeases(now: now)
        return entries[key].map(status)
    }

    private func status(_ entry: Entry) -> CompileJobStatus {
        CompileJobStatus(job: entry.job, state: entry.state, attempts: entry.attempts, log: logs[entry.job.key] ?? "")
    }

    private mutating func save(_ entry: Entry) {
        var entry = entry
        entry.revision = (entries[entry.job.key]?.revision ?? 0) + 1
        entries[entry.job.key] = entry
        pending.append(.entry(entry))
    }

    /// A job's log kept (in memory and in the store) up to this many bytes; past it one note says so. A worker's
    /// output is a server token's to send, and a log is read whole by `gold job log`.
    static let logLimit = 16 << 20

    private mutating func log(_ key: CacheKey, _ text: String) {
        guard !text.isEmpty else { return }
        let kept = logs[key, default: ""].utf8.count
        guard kept < Self.logLimit else { return }
        var text = text
        if kept + text.utf8.count >= Self.logLimit {
            text =
                String(decoding: text.utf8.prefix(max(0, Self.logLimit - kept - 400)), as: UTF8.self)
                + "\ngold-compile: the log is past \(Self.logLimit >> 20) MiB; the rest is not kept here (the artifact's build.log has it all)\n"
        }
        logs[key, default: ""] += text
        pending.append(.log(key: key, text: text))
    }

    /// The lease as the book holds it, if `lease` is still the job's current, unexpired one.
    private mutating func currentLease(_ lease: CompileLease, now: Date) throws -> CompileLease {
        expireLeases(now: now)
        guard let entry = entries[lease.job.key] else {
            throw CompileError(.notFound, "no compile job \(lease.job.key.short)")
        }
        guard case .leased(let current) = entry.state, current.worker == lease.worker, current.attempt == lease.attempt
        else {
            throw CompileError(
                .leaseLost,
                "\(lease.worker) no longer holds \(lease.job.label) (attempt \(lease.attempt)): it expired, was cancelled or finished"
            )
        }
        return current
    }

    private mutating func expireLeases(now: Date) {
        for var entry in entries.values {
            guard case .leased(let lease) = entry.state, lease.expires <= now else { continue }
            entry.expiries += 1
            if entry.expiries >= maxAttempts {
                entry.state = .finished(
                    .failure(
                        CompileFailure(
                            step: "lease",
                            message:
                                "\(maxAttempts) workers stopped heartbeating on \(lease.job.label); last was \(lease.worker)"
                        )))
                save(entry)
            } else {
                entry.state = .queued
                save(entry)
                log(entry.job.key, "--- lease of \(lease.worker) (attempt \(lease.attempt)) expired ---\n")
            }
        }
    }
}

extension Duration {
    /// Seconds as a `TimeInterval`.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
