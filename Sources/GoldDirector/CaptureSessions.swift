import Foundation
import GoldCore
import GoldImage

/// Capture sessions in flight: which machine each belongs to, the parent it began with, and what arrived.
///
/// Kept in memory: a director restart ends them (the agent's next call gets 404 naming the session, the workflow
/// step fails and its retry begins a new session; chunks already uploaded are in the store and do not move again).
public actor CaptureSessions {
    public struct Session: Sendable {
        public var info: ImageCapture.Session
        public var actor: String
        public var lastUsed: Date
        /// Uploads the store did not hold (written) and did (nothing written).
        public var uploadedChunks = 0
        public var uploadedBytes: UInt64 = 0
        public var duplicateUploads = 0
        /// Uploads refused because their bytes did not hash to their name.
        public var refusedUploads = 0
        /// Hashes asked about and found missing.
        public var asked = 0
        public var missing = 0
        /// Set while a commit runs, and after it: a repeated commit answers the same result.
        public var committing = false
        public var result: ImageCapture.Result?
        /// New chunk bytes the machine may upload before a commit (see ``reserve(_:bytes:)``).
        public var quota: UInt64 = .max
    }

    /// A session unused this long is forgotten.
    let idleLimit: TimeInterval
    /// Sessions open at once, all machines together (each holds a little memory until it ends).
    let capacity: Int
    /// Open, uncommitted sessions a machine keeps: a new one ends the oldest past this (an agent that retried).
    static let perMachine = 2
    private var sessions: [String: Session] = [:]
    /// New chunk bytes each machine uploaded that no commit has referenced yet. An agent that opens session after
    /// session and never commits stops at its quota; a commit starts the count again. (Chunks no version references
    /// are removed by `gold image gc`; the count starts at zero when the director restarts.)
    private var uncommitted: [String: UInt64] = [:]

    public init(idleLimit: TimeInterval = 24 * 3600, capacity: Int = 1024) {
        self.idleLimit = idleLimit
        self.capacity = capacity
    }

    var count: Int { sessions.count }

    /// Opens a session; `quota` bounds the new chunk bytes the machine uploads before a commit.
    func begin(_ info: ImageCapture.Session, actor: String, quota: UInt64 = .max, now: Date = Date()) throws -> Session {
        sessions = sessions.filter { now.timeIntervalSince($0.value.lastUsed) < idleLimit }
        let open = sessions.values.filter { $0.info.machine == info.machine && !$0.committing }.sorted { $0.lastUsed < $1.lastUsed }
        for old in open.prefix(max(0, open.count - (Self.perMachine - 1))) { sessions[old.info.id] = nil }
        guard sessions.count < capacity else {
            throw GoldError(.tooMany, "\(sessions.count) capture sessions are open (at most \(capacity)); commit or wait for one to end")
        }
        var session = Session(info: info, actor: actor, lastUsed: now)
        session.quota = quota
        sessions[info.id] = session
        return session
    }

    /// The session `id` of `machine`; 404 naming the path field otherwise.
    func session(_ id: String, machine: String, now: Date = Date()) throws -> Session {
        guard var session = sessions[id], session.info.machine == machine else {
            throw GoldError(
                .notFound, "machine \(machine) has no capture session '\(id)' (sessions end when the director restarts): begin a new one",
                at: "path.capture")
        }
        session.lastUsed = now
        sessions[id] = session
        return session
    }

    func recordMissing(_ id: String, asked: Int, missing: Int) {
        sessions[id]?.asked += asked
        sessions[id]?.missing += missing
    }

    /// Counts `bytes` against the machine's quota of uncommitted uploads before they are stored; 413 past it.
    func reserve(_ id: String, bytes: Int) throws {
        guard let session = sessions[id] else { return }
        let machine = session.info.machine
        let used = uncommitted[machine] ?? 0
        let (total, overflow) = used.addingReportingOverflow(UInt64(max(0, bytes)))
        guard !overflow, total <= session.quota else {
            throw GoldError(
                .tooLarge,
                "machine \(machine) has uploaded \(used >> 20) MiB of chunks that no commit uses yet; a capture of its disks "
                    + "needs at most \(session.quota >> 20) MiB: commit the capture, or run `gold image gc` and begin again",
                at: "body")
        }
        uncommitted[machine] = total
    }

    /// An upload reserved with ``reserve(_:bytes:)`` was stored (`new`) or was already in the store (given back).
    func recordUpload(_ id: String, bytes: Int, new: Bool) {
        if new {
            sessions[id]?.uploadedChunks += 1
            sessions[id]?.uploadedBytes += UInt64(bytes)
        } else {
            sessions[id]?.duplicateUploads += 1
            release(id, bytes: bytes)
        }
    }

    /// An upload reserved with ``reserve(_:bytes:)`` was refused (it did not hash to its name): given back.
    func recordRefused(_ id: String, bytes: Int) {
        sessions[id]?.refusedUploads += 1
        release(id, bytes: bytes)
    }

    private func release(_ id: String, bytes: Int) {
        guard let machine = sessions[id]?.info.machine else { return }
        let used = uncommitted[machine] ?? 0
        uncommitted[machine] = used - min(used, UInt64(max(0, bytes)))
    }

    /// New chunk bytes `machine` uploaded that no commit uses yet.
    public func uncommittedBytes(machine: String) -> UInt64 { uncommitted[machine] ?? 0 }

    /// Marks the session as committing; false when another commit runs now.
    /// Commits hashing disks at once (each reads a whole disk on a thread of its own).
    static let concurrentCommits = 2

    func startCommit(_ id: String) throws -> Bool {
        guard let session = sessions[id], !session.committing else { return false }
        guard sessions.values.filter(\.committing).count < Self.concurrentCommits else {
            throw GoldError(.tooMany, "\(Self.concurrentCommits) capture commits are running; try again when one ends")
        }
        sessions[id]?.committing = true
        return true
    }

    func finishCommit(_ id: String, result: ImageCapture.Result?) {
        sessions[id]?.committing = false
        sessions[id]?.result = result
        if result != nil, let machine = sessions[id]?.info.machine { uncommitted[machine] = 0 }
    }

    /// A session's counters, for tests and events.
    public func snapshot(_ id: String) -> Session? { sessions[id] }
}
