import Foundation

/// An in-memory `CompileQueue`: FIFO, one lease per job at a time, expired leases handed out again, a job
/// failed once `maxAttempts` leases in a row have expired. Attempt numbers only grow, so a stale lease never
/// matches a later one.
public actor MemoryCompileQueue: CompileQueue {
    private struct Entry {
        var status: CompileJobStatus
        var order: Int
        /// Leases that expired since the job was last submitted.
        var expiries = 0
    }

    private let clock: any CompileClock
    private let maxAttempts: Int
    private var entries: [CacheKey: Entry] = [:]
    private var nextOrder = 0

    public init(clock: any CompileClock = SystemCompileClock(), maxAttempts: Int = 3) {
        self.clock = clock
        self.maxAttempts = maxAttempts
    }

    @discardableResult public func submit(_ job: CompileJob) throws -> CompileJob {
        if var entry = entries[job.key] {
            entry.status.job.machines = Array(Set(entry.status.job.machines + job.machines)).sorted()
            switch entry.status.state {
            case .finished(.failure), .cancelled:
                entry.status.state = .queued
                entry.expiries = 0
                entry.order = nextOrder
                nextOrder += 1
            case .queued, .leased, .finished(.artifact): break
            }
            entries[job.key] = entry
            return entry.status.job
        }
        entries[job.key] = Entry(
            status: CompileJobStatus(job: job, state: .queued, attempts: 0, log: ""), order: nextOrder)
        nextOrder += 1
        return job
    }

    public func lease(worker: String, ttl: Duration) -> CompileLease? {
        let now = clock.now()
        expireLeases(now: now)
        guard
            let key = entries.filter({ $0.value.status.state == .queued }).min(by: { $0.value.order < $1.value.order })?
                .key,
            var entry = entries[key]
        else { return nil }
        entry.status.attempts += 1
        let lease = CompileLease(
            job: entry.status.job, worker: worker, attempt: entry.status.attempts, ttl: ttl,
            expires: now + ttl.timeInterval)
        entry.status.state = .leased(lease)
        if entry.status.attempts > 1 { entry.status.log += "--- attempt \(lease.attempt) on \(worker) ---\n" }
        entries[key] = entry
        return lease
    }

    public func heartbeat(_ lease: CompileLease) throws -> CompileLease {
        var current = try currentLease(lease)
        current.expires = clock.now() + current.ttl.timeInterval
        entries[lease.job.key]?.status.state = .leased(current)
        return current
    }

    public func appendLog(_ lease: CompileLease, _ text: String) throws {
        _ = try currentLease(lease)
        entries[lease.job.key]?.status.log += text
    }

    public func complete(_ lease: CompileLease, _ outcome: CompileOutcome) throws {
        _ = try currentLease(lease)
        entries[lease.job.key]?.status.state = .finished(outcome)
    }

    public func cancel(_ key: CacheKey) throws {
        guard let entry = entries[key] else { throw CompileError(.notFound, "no compile job \(key.short)") }
        switch entry.status.state {
        case .queued, .leased: entries[key]?.status.state = .cancelled
        case .finished, .cancelled: break
        }
    }

    /// Every job the queue knows, oldest first.
    public func all() -> [CompileJobStatus] {
        expireLeases(now: clock.now())
        return entries.values.sorted { $0.order < $1.order }.map(\.status)
    }

    public func status(_ key: CacheKey) -> CompileJobStatus? {
        expireLeases(now: clock.now())
        return entries[key]?.status
    }

    /// The lease as the queue holds it, if `lease` is still the job's current, unexpired one.
    private func currentLease(_ lease: CompileLease) throws -> CompileLease {
        let now = clock.now()
        expireLeases(now: now)
        guard let entry = entries[lease.job.key] else {
            throw CompileError(.notFound, "no compile job \(lease.job.key.short)")
        }
        guard case .leased(let current) = entry.status.state, current.worker == lease.worker,
            current.attempt == lease.attempt
        else {
            throw CompileError(
                .leaseLost,
                "\(lease.worker) no longer holds \(lease.job.label) (attempt \(lease.attempt)): it expired, was cancelled or finished"
            )
        }
        return current
    }

    private func expireLeases(now: Date) {
        for (key, entry) in entries {
            guard case .leased(let lease) = entry.status.state, lease.expires <= now else { continue }
            entries[key]?.expiries += 1
            if entries[key]!.expiries >= maxAttempts {
                entries[key]?.status.state = .finished(
                    .failure(
                        CompileFailure(
                            step: "lease",
                            message:
                                "\(maxAttempts) workers stopped heartbeating on \(lease.job.label); last was \(lease.worker)"
                        )))
            } else {
                entries[key]?.status.state = .queued
                entries[key]?.status.log += "--- lease of \(lease.worker) (attempt \(lease.attempt)) expired ---\n"
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
