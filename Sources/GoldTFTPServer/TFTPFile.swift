import GoldTFTP
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file to send: bytes in memory (rendered per machine) or an open file read in chunks, never whole.
public struct TFTPFile: Sendable {
    enum Storage: Sendable {
        case memory(ByteBuffer)
        case descriptor(FileDescriptor)
    }

    let storage: Storage
    /// The size in bytes (answered to `tsize`).
    public let size: Int
    /// Which version of which file an opened file is (nil for bytes in memory): the file cache's key.
    let key: TFTPFileKey?

    init(storage: Storage, size: Int, key: TFTPFileKey? = nil) {
        self.storage = storage
        self.size = size
        self.key = key
    }

    /// True when the bytes are in memory, so reading them costs no I/O.
    var isInMemory: Bool {
        if case .memory = self.storage { return true }
        return false
    }

    /// A file whose bytes are already in memory, e.g. a rendered `pxelinux.cfg/01-<mac>`.
    public static func bytes(_ buffer: ByteBuffer) -> TFTPFile {
        TFTPFile(storage: .memory(buffer), size: buffer.readableBytes)
    }

    /// A file whose content is this string's UTF-8.
    public static func string(_ text: String) -> TFTPFile {
        .bytes(ByteBuffer(string: text))
    }

    /// Opens a regular file for reading (the last path component must not be a symlink).
    ///
    /// Blocking: call it off the event loop. Throws ``TFTPError`` with the right RFC 1350 code.
    public static func open(path: String) throws -> TFTPFile {
        try self.open(path: path, displayName: path)
    }

    /// Opens `path`, naming it `displayName` in errors (the client's name, not the host path).
    static func open(path: String, displayName: String) throws -> TFTPFile {
        let fd = systemOpen(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw TFTPError.fromErrno(errno, path: displayName) }
        let descriptor = FileDescriptor(fd)
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw TFTPError.fromErrno(errno, path: displayName) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw TFTPError(.fileNotFound, wireCode: .fileNotFound, "'\(displayName)' is not a regular file")
        }
        return TFTPFile(storage: .descriptor(descriptor), size: Int(info.st_size), key: TFTPFileKey(info))
    }

    /// Reads up to `length` bytes at `offset`: memory is sliced, files are read on `threadPool`.
    func read(offset: Int, length: Int, threadPool: NIOThreadPool, eventLoop: EventLoop, allocator: ByteBufferAllocator)
        -> EventLoopFuture<ByteBuffer>
    {
        let length = max(0, min(length, self.size - offset))
        switch self.storage {
        case .memory(let buffer):
            let slice = buffer.getSlice(at: buffer.readerIndex + offset, length: length) ?? ByteBuffer()
            return eventLoop.makeSucceededFuture(slice)
        case .descriptor(let descriptor):
            return threadPool.runIfActive(eventLoop: eventLoop) {
                try descriptor.read(offset: offset, length: length, allocator: allocator)
            }
        }
    }
}

/// An open file descriptor, closed when the last reference goes away.
final class FileDescriptor: Sendable {
    let fd: CInt

    init(_ fd: CInt) { self.fd = fd }

    deinit { _ = systemClose(self.fd) }

    func read(offset: Int, length: Int, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        var buffer = allocator.buffer(capacity: length)
        var done = 0
        while done < length {
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length - done) { target in
                pread(self.fd, target.baseAddress, length - done, off_t(offset + done))
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw TFTPError(
                    .readFailed, wireCode: .notDefined, "read failed at offset \(offset + done): errno \(errno)")
            }
            if count == 0 { break }
            done += count
        }
        return buffer
    }
}

extension TFTPError {
    static func fromErrno(_ code: CInt, path: String) -> TFTPError {
        switch code {
        case ENOENT, ENOTDIR:
            TFTPError(.fileNotFound, wireCode: .fileNotFound, "'\(path)' not found")
        case EACCES, EPERM, ELOOP:
            TFTPError(.pathRefused, wireCode: .accessViolation, "'\(path)' is not readable (errno \(code))")
        default:
            TFTPError(.readFailed, wireCode: .notDefined, "'\(path)' cannot be opened (errno \(code))")
        }
    }
}

private func systemOpen(_ path: String, _ flags: CInt) -> CInt { open(path, flags) }

private func systemClose(_ fd: CInt) -> CInt { close(fd) }
