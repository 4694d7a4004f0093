import Foundation

/// A block device or a file, read and written with pread/pwrite.
public final class FileBlockTarget: BlockTarget, @unchecked Sendable {
    let fd: Int32
    public let path: String

    let isRegularFile: Bool

    public init(path: String) throws {
        fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw AgentError("cannot open \(path) for writing: \(String(cString: strerror(errno)))") }
        self.path = path
        var info = stat()
        isRegularFile = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    deinit { close(fd) }

    public func read(offset: UInt64, count: Int) throws -> [UInt8] {
        var failure: (any Error)?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do { try read(offset: offset, into: UnsafeMutableRawBufferPointer(buffer)) } catch { failure = error }
            initialized = count
        }
        if let failure { throw failure }
        return bytes
    }

    public func read(offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        try preadFully(fd, path: path, offset: offset, into: buffer)
    }

    public func write(offset: UInt64, bytes: [UInt8]) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes {
                pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw AgentError("writing \(path) at \(offset): \(String(cString: strerror(errno)))") }
            done += n
        }
    }

    /// A regular file's holes, from `lseek(SEEK_DATA)` (a file system may report a hole as data, never data as a
    /// hole); a block device has none.
    public func isHole(offset: UInt64, count: Int) -> Bool {
        guard isRegularFile else { return false }
        let seekData: Int32 = 3  // SEEK_DATA (Linux)
        let data = lseek(fd, off_t(offset), seekData)
        if data < 0 { return errno == ENXIO }  // no data at or after offset
        return UInt64(data) >= offset + UInt64(count)
    }

    /// `sync_file_range(SYNC_FILE_RANGE_WRITE)`: the kernel starts writing the range out now rather than when dirty
    /// pages pile up (with 20% of RAM allowed dirty, a 1 GiB write would otherwise all wait for the final fsync).
    /// It waits for nothing and proves nothing; ``flush()`` does.
    public func startWriteback(offset: UInt64, count: Int) {
        guard let syncFileRange = Self.syncFileRange else { return }
        _ = syncFileRange(fd, Int64(offset), Int64(count), 2)  // SYNC_FILE_RANGE_WRITE
    }

    /// Looked up at run time: glibc declares it only under _GNU_SOURCE, which Swift's Glibc module does not set.
    private static let syncFileRange: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32)? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
    }()

    public func flush() throws {
        guard fsync(fd) == 0 else { throw AgentError("fsync \(path): \(String(cString: strerror(errno)))") }
    }
}
