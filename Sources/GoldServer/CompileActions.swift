import Foundation
import GoldCompile
import GoldCore
import GoldWorkflow
import Logging
import ServiceLifecycle

/// The director's compile queue (saved in its store) and artifact store: workflows submit jobs, compile workers (in
/// this process or on other hosts over HTTP) build them, the deploy role serves the artifacts (`/artifacts/…`).
public struct CompileHub: Sendable {
    public let queue: any CompileQueue
    public let artifacts: LocalArtifactStore

    public init(queue: any CompileQueue, artifacts: LocalArtifactStore) {
        self.queue = queue
        self.artifacts = artifacts
    }

    /// The hub of a director over `store`, with its artifacts in the data directory.
    public init(config: ServerConfig, store: any CompileJobStore) throws {
        queue = try StoreCompileQueue(store: store)
        artifacts = try LocalArtifactStore(root: config.dataDir + "/artifacts")
    }
}

extension ServerConfig.CompileConfig {
    /// The worker's pacing from `gold.yaml`'s `compile:` section.
    var workerConfiguration: CompileWorkerConfiguration {
        CompileWorkerConfiguration(
            leaseTTL: .seconds(leaseSeconds), heartbeatInterval: .seconds(heartbeatSeconds),
            logInterval: .seconds(min(2, heartbeatSeconds)), pollInterval: .seconds(pollSeconds),
            jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount)
    }
}

/// The compile role: one worker building the queue's jobs until the process drains.
struct CompileService: Service {
    let worker: CompileWorker

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            do { try await worker.run() } catch is CancellationError {}
        }
    }
}

/// The workflow step "compile the machine's kernel and binaries": one job per distinct input set, cached by key.
struct CompileActions: Sendable {
    let hub: CompileHub?
    let logger: Logger
    /// Whether a compile worker runs in this process; if not, jobs wait for a compile server on another host.
    var localWorker = true

    func compile(
        _ machine: MachineRecord, context: [String: String] = [:],
        progress: @escaping @Sendable (Double, String) async -> Void
    ) async -> WorkflowEvent.Outcome {
        let jobs: [CompileJob]
        var spec = machine.spec
        if let text = context["kernel.spec"] {
            // `gold kernel upgrade --kernel SPEC`: this upgrade's kernel, not the fleet entry's.
            guard let kernel = try? JSONDecoder().decode(KernelSpec.self, from: Data(text.utf8)) else {
                return .failed(reason: "the workflow's kernel.spec is not a kernel spec: \(text.prefix(200))")
            }
            spec.kernel = kernel
        }
        do {
            jobs = try await InputResolver().jobs(for: [spec])
        } catch {
            return .failed(reason: "compile inputs of \(machine.name): \(error)")
        }
        if jobs.isEmpty { return .succeeded(detail: "Debian's packaged kernel and no binaries: nothing to compile") }
        guard let hub else {
            return .failed(
                reason: "machine \(machine.name) needs \(jobs.count) build(s) but this process has no compile queue")
        }
        var outputs: [String: String] = [:]
        var details: [String] = []
        for (index, job) in jobs.enumerated() {
            do {
                try await hub.queue.submit(job)
                let started = ContinuousClock.now
                while true {
                    guard let status = try await hub.queue.status(job.key) else {
                        return .failed(reason: "\(job.label) vanished from the queue")
                    }
                    switch status.state {
                    case .queued, .leased:
                        let (share, text) = Self.progress(of: status, localWorker: localWorker)
                        await progress(
                            (Double(index) + share) / Double(jobs.count), "\(job.label): \(text.prefix(160))")
                        try await Task.sleep(for: .seconds(2))
                        continue
                    case .cancelled:
                        return .failed(reason: "\(job.label) was cancelled")
                    case .finished(.failure(let failure)):
                        let tail = status.log.split(separator: "\n").suffix(20).joined(separator: "\n")
                        return .failed(
                            reason: "\(job.label) failed at \(failure.step): \(failure.message)"
                                + (failure.missingOptions.isEmpty
                                    ? ""
                                    : "; options that did not survive: \(failure.missingOptions.joined(separator: ", "))")
                                + "\n\(tail)")
                    case .finished(.artifact(let manifest, let reused)):
                        switch job.inputs {
                        case .kernel:
                            outputs["kernel.artifact"] = job.key.hex
                            if let release = manifest.metadata.kernel?.release { outputs["kernel.release"] = release }
                        case .binary(let inputs):
                            outputs["binary.\(inputs.name).artifact"] = job.key.hex
                        }
                        let seconds = Double((ContinuousClock.now - started).components.seconds)
                        details.append(
                            "\(job.label): " + (reused ? "reused from the cache" : "built in \(Int(seconds)) s"))
                    }
                    break
                }
            } catch {
                return .failed(reason: "\(job.label): \(error)")
            }
        }
        return .succeeded(detail: details.joined(separator: "; "), outputs: outputs)
    }

    /// A job's share done and what to show: the worker's last progress line (objects built of the last build's count,
    /// time left) with the build's latest line of its own, or where the job waits.
    static func progress(of status: CompileJobStatus, localWorker: Bool) -> (share: Double, text: String) {
        // The log's tail is enough (a kernel's log runs to megabytes, read every 2 s).
        let lines = String(decoding: status.log.utf8.suffix(64 << 10), as: UTF8.self).split(separator: "\n").suffix(400)
        guard let latest = lines.last else {
            if case .leased = status.state { return (0, "leased; starting") }
            return (0, localWorker ? "queued" : "queued for a compile server (none runs in the director's process)")
        }
        guard let report = lines.last(where: { $0.contains("gold-compile: progress ") }),
            let counts = BuildProgress.parse(report)
        else {
            return (0, String(latest))
        }
        let summary = report.replacingOccurrences(of: "gold-compile: progress ", with: "")
        let share = counts.expected.map { min(0.99, Double(counts.built) / Double($0)) } ?? 0
        return (share, latest == report ? summary : "\(summary); \(latest.trimmingCharacters(in: .whitespaces))")
    }
}
