import Dispatch

/// A task executor on GCD threads for work that blocks (image builds hash gigabytes and wait on subprocesses):
/// it must not hold the cooperative pool's few threads, or the director's HTTP server stalls.
final class BlockingExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = BlockingExecutor()
    private let queue = DispatchQueue(label: "gold.blocking", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
