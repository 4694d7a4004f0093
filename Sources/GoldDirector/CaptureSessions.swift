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
    /// Chunks each machine uploaded that no committed version uses yet, with their sizes, and their total. An agent
    /// that opens session after session and never commits stops at its quota; a commit takes back the chunks its
    /// version uses, and `gold image gc` (which removes chunks no version uses) the chunks it removed. The record
    /// starts empty when the director restarts.
    private var uncommitted: [String: [ChunkHash: Int]] = [:]
    private var uncommittedTotal: [String: UInt64] = [:]

    public init(idleLimit: TimeInterval = 24 * 3600, capacity: Int = 1024) {
        self.idleLimit = idleLimit
        self.capacity = capacity
    }

    var count: Int { sessions.count }

    /// Opens a session; `quota` bounds the new chunk bytes the machine uploads before a commit.
    func begin(_ info: ImageCapture.Session, actor: String, quota: UInt64 = .max, now: Date = Date()) throws -> Session
    {
        sessions = sessions.filter { now.timeIntervalSince($0.value.lastUsed) < idleLimit }
        let open = sessions.values.filter { $0.info.machine == info.machine && !$0.committing }.sorted {
            $0.lastUsed < $1.lastUsed
        }
        for old in open.prefix(max(0, open.count - (Self.perMachine - 1))) { sessions[old.info.id] = nil }
        guard sessions.count < capacity else {
            throw GoldError(
                .tooMany,
                "\(sessions.count) capture sessions are open (at most \(capacity)); commit or wait for one to end")
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
                .notFound,
                "machine \(machine) has no capture session '\(id)' (sessions end when the director restarts): begin a new one",
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

    /// Counts an upload of `chunk` against the machine's quota before it is stored; 413 past it. True when it was
    /// counted now (false: the machine uploaded this chunk before and it is counted already); pass that on to
    /// ``recordUpload(_:chunk:bytes:new:counted:)`` or ``recordRefused(_:chunk:counted:)``.
    func reserve(_ id: String, chunk: ChunkHash, bytes: Int) throws -> Bool {
        guard let session = sessions[id] else { return false }
        let machine = session.info.machine
        guard uncommitted[machine]?[chunk] == nil else { return false }
        let used = uncommittedTotal[machine] ?? 0
        let (total, overflow) = used.addingReportingOverflow(UInt64(max(0, bytes)))
        guard !overflow, total <= session.quota else {
            throw GoldError(
                .tooLarge,
                "machine \(machine) has uploaded \(used >> 20) MiB of chunks that no version uses yet; a capture of its disks "
                    + "needs at most \(session.quota >> 20) MiB: commit the capture (or `gold image gc` to remove them), then begin again",
                at: "body")
        }
        uncommitted[machine, default: [:]][chunk] = max(0, bytes)
        uncommittedTotal[machine] = total
        return true
    }

    /// An upload counted with ``reserve(_:chunk:bytes:)`` was stored (`new`), or the store held it already (taken back).
    func recordUpload(_ id: String, chunk: ChunkHash, bytes: Int, new: Bool, counted: Bool) {
        if new {
            sessions[id]?.uploadedChunks += 1
            sessions[id]?.uploadedBytes += UInt64(bytes)
        } else {
            sessions[id]?.duplicateUploads += 1
            if counted, let machine = sessions[id]?.info.machine { forget(machine, [chunk]) }
        }
    }

    /// An upload counted with ``reserve(_:chunk:bytes:)`` was refused (it did not hash to its name): taken back.
    func recordRefused(_ id: String, chunk: ChunkHash, counted: Bool) {
        sessions[id]?.refusedUploads += 1
        if counted, let machine = sessions[id]?.info.machine { forget(machine, [chunk]) }
    }

    /// Takes `chunks` off the machine's uncommitted uploads.
    private func forget(_ machine: String, _ chunks: some Sequence<ChunkHash>) {
        guard var held = uncommitted[machine] else { return }
        var total = uncommittedTotal[machine] ?? 0
        for chunk in chunks {
            if let size = held.removeValue(forKey: chunk) { total -= min(total, UInt64(size)) }
        }
        uncommitted[machine] = held.isEmpty ? nil : held
        uncommittedTotal[machine] = held.isEmpty ? nil : total
    }

    /// Every machine's uploads that no version uses yet (to check against the store after a garbage collection).
    func uncommittedChunks() -> [ChunkHash] { uncommitted.values.flatMap(\.keys) }

    /// After a garbage collection: uploads the store no longer holds are no longer counted, whoever sent them.
    func forgetRemoved(_ chunks: [ChunkHash]) {
        let removed = Set(chunks)
        for (machine, held) in uncommitted {
            forget(machine, held.keys.filter { removed.contains($0) })
        }
    }

    /// New chunk bytes `machine` uploaded that no version uses yet.
    public func uncommittedBytes(machine: String) -> UInt64 { uncommittedTotal[machine] ?? 0 }

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

    /// Ends a commit; a recorded version (`result`) takes the chunks it uses (`chunks`) off the machine's count.
    func finishCommit(_ id: String, result: ImageCapture.Result?, chunks: [ChunkHash] = []) {
        sessions[id]?.committing = false
        sessions[id]?.result = result
        if result != nil, let machine = sessions[id]?.info.machine { forget(machine, chunks) }
    }

    /// A session's counters, for tests and events.
    public func snapshot(_ id: String) -> Session? { sessions[id] }
}
