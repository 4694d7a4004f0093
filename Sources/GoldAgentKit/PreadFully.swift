import Foundation

/// Fills `buffer` from `fd` at `offset` with pread, retrying short reads and EINTR; bytes past the end of the file read
/// as zeros. `path` names the file in errors.
func preadFully(_ fd: Int32, path: String, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
    var done = 0
    while done < buffer.count {
        let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
        if n < 0 && errno == EINTR { continue }
        if n < 0 {
            throw AgentError("reading \(path) at \(offset + UInt64(done)): \(String(cString: strerror(errno)))")
        }
        if n == 0 { break }
        done += n
    }
    if done < buffer.count { memset(buffer.baseAddress! + done, 0, buffer.count - done) }
}
