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

/// Fills `buffer` from `fd` at `offset` with pread, retrying short reads and EINTR; bytes past the end of the file read
/// as zeros. `path` names the file in errors.
func preadFully(_ fd: Int32, path: String, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
    var done = 0
    while done < buffer.count {
        let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
        if n < 0 && errno == EINTR { continue }
        if n < 0 { throw AgentError("reading \(path) at \(offset + UInt64(done)): \(String(cString: strerror(errno)))") }
        if n == 0 { break }
        done += n
    }
    if done < buffer.count { memset(buffer.baseAddress! + done, 0, buffer.count - done) }
}
