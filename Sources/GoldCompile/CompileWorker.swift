import Foundation
import GoldSpawn
import Logging

/// How a worker paces itself.
public struct CompileWorkerConfiguration: Sendable {
    public var leaseTTL: Duration
    /// How often the lease is renewed while building; well under `leaseTTL`.
    public var heartbeatInterval: Duration
    /// How often new build log output is sent to the queue.
    public var logInterval: Duration
    /// How long an idle worker waits before asking for a job again.
    public var pollInterval: Duration
    /// `make -j` (the compile server has 2 cores).
    public var jobs: Int
    /// The longest any one build step may run.
    public var stepTimeout: Duration
    public var useCcache: Bool

    public init(
        leaseTTL: Duration = .seconds(120), heartbeatInterval: Duration = .seconds(20),
        logInterval: Duration = .seconds(2),
        pollInterval: Duration = .seconds(5), jobs: Int = 2, stepTimeout: Duration = .seconds(4 * 3600),
        useCcache: Bool = true
    ) {
        self.leaseTTL = leaseTTL
        self.heartbeatInterval = heartbeatInterval
        self.logInterval = logInterval
        self.pollInterval = pollInterval
        self.jobs = jobs
        self.stepTimeout = stepTimeout
        self.useCcache = useCcache
    }
}

/// Leases jobs, builds each in a fresh work dir while heartbeating and streaming the log, and publishes the
/// artifact; a key already in the store completes at once as reused. One job at a time.
public struct CompileWorker: Sendable {
    public let name: String
    public let queue: any CompileQueue
    public let store: any ArtifactStore
    public let workDir: String
    public let runner: any ProgramRunner
    public let configuration: CompileWorkerConfiguration
    let logger: Logger

    public init(
        name: String, queue: any CompileQueue, store: any ArtifactStore, workDir: String,
        runner: any ProgramRunner = SystemRunner(), configuration: CompileWorkerConfiguration = .init(),
        logger: Logger = Logger(label: "gold.compile")
    ) {
        self.name = name
        self.queue = queue
        self.store = store
        self.workDir = workDir
        self.runner = runner
        self.configuration = configuration
        self.logger = logger
    }

    /// Works until the task is cancelled (a `Service`'s `run()` can call this).
    public func run() async throws {
        while !Task.isCancelled {
            do {
                if try await runOnce() == nil { try await Task.sleep(for: configuration.pollInterval) }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // The director unreachable, a store error: the job (if any) stays leased until it expires and goes to
                // the next worker; this worker tries again after a pause rather than ending the compile role.
                logger.error("compile worker error; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: configuration.pollInterval)
            }
        }
    }

    /// Leases and finishes one job; nil when the queue had none, or when the lease was lost mid-build (the job
    /// is someone else's now). Cancelling the task stops the build without completing the job.
    @discardableResult public func runOnce() async throws -> CompileOutcome? {
        guard let lease = try await queue.lease(worker: name, ttl: configuration.leaseTTL) else { return nil }
        var log = logger
        log[metadataKey: "job"] = "\(lease.job.label)"
        log.info(
            "leased",
            metadata: ["attempt": "\(lease.attempt)", "machines": "\(lease.job.machines.joined(separator: ","))"])

        if let existing = try await store.manifest(for: lease.job.key) {
            let outcome = CompileOutcome.artifact(existing, reused: true)
            try await queue.appendLog(
                lease,
                "gold-compile: reused artifact \(lease.job.key.hex) built by \(existing.metadata.worker); nothing to build\n"
            )
            try await queue.complete(lease, outcome)
            log.info("reused artifact")
            return outcome
        }

        let outcome: CompileOutcome
        do {
            outcome = try await withThrowingTaskGroup(of: CompileOutcome?.self) { group in
                let session = try BuildSession(
                    runner: runner, workDir: workDir, useCcache: configuration.useCcache,
                    timeout: configuration.stepTimeout)
                let logFile = session.logFile
                let box = SendableBox(session)
                group.addTask { try await self.build(lease, session: box) }
                // A kernel build reports objects built against the last build of the same source, with the time left.
                let progress: BuildProgress? =
                    if case .kernel(let inputs) = lease.job.inputs {
                        BuildProgress(expected: BuildHistory.load(historyFile).expected(for: inputs))
                    } else { nil }
                group.addTask {
                    try await self.keepLease(lease, logFile: logFile, progress: progress)
                    return nil
                }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let result {
                        group.cancelAll()
                        return result
                    }
                }
                throw CancellationError()
            }
        } catch let error as CompileError where error.code == .leaseLost {
            log.warning("lease lost; build stopped", metadata: ["error": "\(error.message)"])
            return nil
        }
        do { try await queue.complete(lease, outcome) } catch let error as CompileError where error.code == .leaseLost {
            log.warning("lease lost before completion", metadata: ["error": "\(error.message)"])
            return nil
        }
        if case .failure(let failure) = outcome {
            log.error("failed", metadata: ["failure": "\(failure)"])
        } else {
            log.info("published")
        }
        try? FileManager.default.removeItem(atPath: workDir + "/build")
        return outcome
    }

    /// Builds and publishes; a failed step becomes a failure outcome.
    private func build(_ lease: CompileLease, session box: SendableBox<BuildSession>) async throws -> CompileOutcome {
        let session = box.value
        let started = ContinuousClock.now
        let job = lease.job
        var metadata = ArtifactMetadata(
            key: job.key, kind: job.kind, inputs: job.inputs, machines: job.machines, worker: name)
        var uploads: [ArtifactUpload]
        session.note("\(job.label) for \(job.machines.joined(separator: ", ")) on \(name), attempt \(lease.attempt)")
        do {
            switch job.inputs {
            case .kernel(let inputs):
                let (files, info) = try await KernelJobBuilder(
                    inputs: inputs, session: session, jobs: configuration.jobs
                ).build()
                uploads = files
                metadata.kernel = info
            case .binary(let inputs):
                let (files, info) = try await BinaryJobBuilder(
                    inputs: inputs, session: session, jobs: configuration.jobs
                ).build()
                uploads = files
                metadata.binary = info
            }
        } catch let failure as StepFailure {
            session.note("FAILED at \(failure.step): \(failure.message)")
            return .failure(failure.failure)
        } catch let error as CompileError {
            session.note("FAILED: \(error.message)")
            return .failure(CompileFailure(step: "build", message: error.message))
        }
        session.time("total", since: started)
        metadata.durations = session.durations
        if case .kernel(let inputs) = job.inputs {
            // What the next build of this source estimates its progress and time left from.
            var count = BuildProgress()
            if let log = FileManager.default.contents(atPath: session.logFile) { count.feed(log, now: 0) }
            var history = BuildHistory.load(historyFile)
            history.record(
                inputs,
                .init(
                    objects: count.built,
                    seconds: (session.durations["build"] ?? 0) + (session.durations["modules"] ?? 0), at: Date()))
            try? history.save(historyFile)
        }
        session.note("built in \(String(format: "%.1f", session.durations["total"] ?? 0)) s")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let metadataFile = session.outputDir + "/metadata.json"
        try encoder.encode(metadata).write(to: URL(fileURLWithPath: metadataFile))
        uploads += [
            ArtifactUpload(name: "metadata.json", path: metadataFile),
            ArtifactUpload(name: "build.log", path: session.logFile),
        ]
        // A lease lost while building must not publish: check once more right before.
        try Task.checkCancellation()
        _ = try await queue.heartbeat(lease)
        do {
            let manifest = try await store.publish(key: job.key, files: uploads, metadata: metadata)
            return .artifact(manifest, reused: false)
        } catch let error as CompileError {
            session.note("FAILED to publish: \(error.message)")
            return .failure(CompileFailure(step: "publish", message: error.message))
        }
    }

    /// Where this worker keeps what its kernel builds reported (objects, time) for the next one's estimate.
    var historyFile: String { workDir + "/history.json" }

    /// Heartbeats and streams new log output until cancelled; throws `leaseLost` when the queue refuses. With
    /// `progress`, also a progress line (objects built, time left) every 10 s while objects are being built.
    private func keepLease(_ lease: CompileLease, logFile: String, progress: BuildProgress? = nil) async throws {
        var offset: UInt64 = 0
        var lastBeat = ContinuousClock.now
        var progress = progress
        var reported = (built: 0, at: ContinuousClock.now)
        let origin = ContinuousClock.now
        while !Task.isCancelled {
            do { try await Task.sleep(for: configuration.logInterval) } catch { break }
            offset = try await sendLog(lease, logFile: logFile, from: offset, progress: &progress, origin: origin)
            if let current = progress, current.built > reported.built, ContinuousClock.now - reported.at >= .seconds(10)
            {
                let now = (ContinuousClock.now - origin).timeInterval
                try await queue.appendLog(lease, current.line(now: now) + "\n")
                reported = (current.built, .now)
            }
            if ContinuousClock.now - lastBeat >= configuration.heartbeatInterval {
                _ = try await queue.heartbeat(lease)
                lastBeat = .now
            }
        }
        offset = try await sendLog(lease, logFile: logFile, from: offset, progress: &progress, origin: origin)
    }

    /// Sends log bytes after `offset` in chunks of at most 64 KiB, counting built objects into `progress`; returns
    /// the new offset.
    private func sendLog(
        _ lease: CompileLease, logFile: String, from offset: UInt64, progress: inout BuildProgress?,
        origin: ContinuousClock.Instant
    ) async throws -> UInt64 {
        guard let handle = FileHandle(forReadingAtPath: logFile) else { return offset }
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        var offset = offset
        while let chunk = try handle.read(upToCount: 64 << 10), !chunk.isEmpty {
            progress?.feed(chunk, now: (ContinuousClock.now - origin).timeInterval)
            try await queue.appendLog(lease, String(decoding: chunk, as: UTF8.self))
            offset += UInt64(chunk.count)
        }
        return offset
    }
}

/// Hands a non-Sendable session to the one child task that uses it.
struct SendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
