import Foundation

/// Work that blocks a thread (a `read`, a `poll`, a wait on a child, a long loop over a file) runs here, on a thread
/// of its own, never on Swift's cooperative pool, Dispatch's global queues or an event loop.
///
/// The cooperative pool has as many threads as the machine has cores, two on a small server: two blocked callers
/// stop every task in the process, the HTTP API and the TFTP server's file opens included (a test run that polled
/// two QEMU consoles from test functions stalled everything else for over 30 s). Dispatch's global pool grows only
/// slowly under blocking, and an event loop that blocks stops its channels.
public enum Blocking {
    /// Runs `body` on a new thread and returns what it returns. Cancelling the caller does not stop `body`: it must
    /// end by itself (a deadline, a descriptor closing, a child exiting).
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// ``run(_:)`` for a body that cannot throw.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: body())
            }
        }
    }
}
