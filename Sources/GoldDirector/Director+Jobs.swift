import Foundation
import GoldAPI
import GoldCompile
import GoldCore
import Hummingbird

extension JobSummary: ResponseEncodable {}
extension JobLog: ResponseEncodable {}

extension JobSummary {
    init(_ status: CompileJobStatus) {
        var state: String
        var worker: String?
        var detail: String?
        switch status.state {
        case .queued: state = "queued"
        case .leased(let lease):
            state = "building"
            worker = lease.worker
        case .finished(.artifact(let manifest, let reused)):
            state = reused ? "reused" : "succeeded"
            worker = manifest.metadata.worker
            detail =
                manifest.metadata.kernel.map { "kernel \($0.release)" }
                ?? manifest.metadata.binary.map { $0.outputs.map(\.path).joined(separator: ", ") }
        case .finished(.failure(let failure)):
            state = "failed"
            detail =
                failure.description
                + (failure.missingOptions.isEmpty
                    ? "" : "; did not survive: \(failure.missingOptions.joined(separator: ", "))")
        case .cancelled: state = "cancelled"
        }
        self.init(
            key: status.job.key.hex, label: status.job.label, kind: status.job.kind.rawValue,
            machines: status.job.machines, state: state, worker: worker, attempts: status.attempts, detail: detail,
            logBytes: status.log.utf8.count)
    }
}

extension Director {
    func requireQueue() throws -> any CompileQueue {
        guard let compileQueue else { throw GoldError(.unavailable, "this director has no compile queue") }
        return compileQueue
    }

    func job(_ context: DirectorContext) async throws -> CompileJobStatus {
        let key = try context.parameters.require("key")
        let queue = try requireQueue()
        // A key prefix as `gold job list` prints it is enough when it names one job.
        let matches = try await queue.all().filter { $0.job.key.hex.hasPrefix(key) }
        guard key.count >= 6, matches.count == 1 else {
            throw GoldError(
                matches.isEmpty ? .notFound : .invalidInput,
                matches.isEmpty
                    ? "no compile job '\(key)'" : "'\(key)' names \(matches.count) jobs; give more of the key",
                at: "path.key")
        }
        return matches[0]
    }

    /// The compile queue: jobs, their build logs (followable), cancellation.
    func addJobRoutes(_ router: Router<DirectorContext>) {
        // Build what machines need ahead of a workflow (e.g. before a rollout); equal inputs share one job.
        router.post("/v1/jobs") { request, context -> [JobSummary] in
            let identity = try context.require(.operate)
            let body = try await decodeBody(SubmitJobs.self, request, context, "job request {machines: [names]}")
            guard !body.machines.isEmpty else {
                throw GoldError(.invalidInput, "name at least one machine", at: "body.machines")
            }
            var specs: [MachineSpec] = []
            for name in body.machines {
                guard let machine = try await store.machine(named: name) else {
                    throw GoldError(.notFound, "no machine named '\(name)'", at: "body.machines")
                }
                specs.append(machine.spec)
            }
            let jobs: [CompileJob]
            do { jobs = try await InputResolver().jobs(for: specs) } catch let error as CompileError {
                throw error.http
            }
            let queue = try requireQueue()
            var summaries: [JobSummary] = []
            for job in jobs {
                let stored = try await onQueue { try await $0.submit(job) }
                _ = try await store.appendEvent(
                    NewEvent(
                        actor: identity.actor, kind: "job.submitted",
                        message: "\(stored.label) for \(stored.machines.joined(separator: ", ")) submitted"))
                if let status = try await queue.status(stored.key) { summaries.append(JobSummary(status)) }
            }
            return summaries
        }
        router.get("/v1/jobs") { _, context -> [JobSummary] in
            _ = try context.require(.read)
            return try await requireQueue().all().map(JobSummary.init)
        }
        router.get("/v1/jobs/{key}") { _, context -> JobSummary in
            _ = try context.require(.read)
            return JobSummary(try await job(context))
        }
        router.get("/v1/jobs/{key}/log") { request, context -> JobLog in
            _ = try context.require(.read)
            let status = try await job(context)
            let bytes = Array(status.log.utf8)
            let offset = min(max(Int(request.uri.queryParameters.get("offset") ?? "0") ?? 0, 0), bytes.count)
            let finished: Bool =
                switch status.state {
                case .queued, .leased: false
                default: true
                }
            return JobLog(
                text: String(decoding: bytes[offset...], as: UTF8.self), next: bytes.count, finished: finished)
        }
        router.post("/v1/jobs/{key}/cancel") { _, context -> JobSummary in
            _ = try context.require(.operate)
            let status = try await job(context)
            try await requireQueue().cancel(status.job.key)
            return JobSummary(try await job(context))
        }
    }
}
