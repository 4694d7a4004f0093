import Foundation

/// Blocking system calls (a read that misses the page cache, `fsync`) run on a thread of their own, not on the
/// cooperative pool: that pool has one thread per core, and a thread waiting for the disk there is a core that hashes
/// nothing meanwhile. Dispatch's global queues would do, but on Linux they add threads slowly when theirs block, so a
/// writer that keeps 16 reads in flight would get two or three.
enum Blocking {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }
}
