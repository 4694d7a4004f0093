import Foundation

/// A job handed to one worker until `expires`; `attempt` fences out a worker whose lease was taken over.
public struct CompileLease: Hashable, Sendable, Codable {
    public var job: CompileJob
    public var worker: String
    /// 1 for the first lease of a job, one more for every later lease of it (after an expiry or a resubmit).
    public var attempt: Int
    public var ttl: Duration
    public var expires: Date

    public init(job: CompileJob, worker: String, attempt: Int, ttl: Duration, expires: Date) {
        self.job = job
        self.worker = worker
        self.attempt = attempt
        self.ttl = ttl
        self.expires = expires
    }
}

/// Why a job failed, for a person: the step and what to change.
public struct CompileFailure: Hashable, Sendable, Codable, CustomStringConvertible {
    /// `unpack`, `config`, `verify`, `build`, `publish`, `lease`…
    public var step: String
    public var message: String
    /// For kernels: requested options missing from the final `.config`, as `CONFIG_X=y (final: absent)`.
    public var missingOptions: [String]

    public init(step: String, message: String, missingOptions: [String] = []) {
        self.step = step
        self.message = message
        self.missingOptions = missingOptions
    }

    public var description: String { "\(step): \(message)" }
}

/// How a job ended.
public enum CompileOutcome: Hashable, Sendable, Codable {
    /// The artifact for the job's key; `reused` when it was already in the store and nothing was built.
    case artifact(ArtifactManifest, reused: Bool)
    case failure(CompileFailure)
}

/// Where a job is.
public enum CompileJobState: Hashable, Sendable, Codable {
    case queued
    case leased(CompileLease)
    case finished(CompileOutcome)
    case cancelled
}

/// A job, where it is, and its build log so far.
public struct CompileJobStatus: Hashable, Sendable, Codable {
    public var job: CompileJob
    public var state: CompileJobState
    /// Leases handed out so far.
    public var attempts: Int
    public var log: String

    public init(job: CompileJob, state: CompileJobState, attempts: Int, log: String) {
        self.job = job
        self.state = state
        self.attempts = attempts
        self.log = log
    }
}

/// The compile server's queue. The director implements it over its store and API; `MemoryCompileQueue` is the
/// reference implementation. Methods that take a lease throw `CompileError.leaseLost` when the lease is no longer
/// the job's current one (expired and re-leased, cancelled, or already completed).
public protocol CompileQueue: Sendable {
    /// Adds a job, or adds its machines to the unfinished job with the same key; a failed or cancelled job with
    /// the key is queued again. Returns the job as stored.
    @discardableResult func submit(_ job: CompileJob) async throws -> CompileJob
    /// The oldest queued job (or one whose lease expired), leased to `worker` for `ttl`; nil when none.
    func lease(worker: String, ttl: Duration) async throws -> CompileLease?
    /// Extends the lease by its ttl and returns it.
    func heartbeat(_ lease: CompileLease) async throws -> CompileLease
    func appendLog(_ lease: CompileLease, _ text: String) async throws
    func complete(_ lease: CompileLease, _ outcome: CompileOutcome) async throws
    /// Stops a queued or leased job; its worker's next heartbeat fails.
    func cancel(_ key: CacheKey) async throws
    func status(_ key: CacheKey) async throws -> CompileJobStatus?
    /// Every job the queue knows, oldest first.
    func all() async throws -> [CompileJobStatus]
}

/// The time a queue measures leases against; tests inject a clock they advance by hand.
public protocol CompileClock: Sendable {
    func now() -> Date
}

/// The system's wall clock.
public struct SystemCompileClock: CompileClock {
    public init() {}
    public func now() -> Date { Date() }
}
