import Foundation

/// Receives archive bytes.
public protocol ByteSink {
    mutating func write(_ bytes: [UInt8]) throws
}

/// Collects the archive in memory (tests, small archives).
public struct MemorySink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public mutating func write(_ bytes: [UInt8]) { self.bytes += bytes }
}

/// Writes the archive to a file through a buffer.
public final class FileSink: ByteSink {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private let path: String

    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw NetbootError(.io, "cannot create \(path)")
        }
        self.handle = handle
        self.path = path
        buffer.reserveCapacity(1 << 20)
    }

    public func write(_ bytes: [UInt8]) throws {
        buffer += bytes
        if buffer.count >= 1 << 20 { try flush() }
    }

    public func flush() throws {
        do { try handle.write(contentsOf: buffer) } catch { throw NetbootError(.io, "cannot write \(path): \(error)") }
        buffer.removeAll(keepingCapacity: true)
    }

    public func close() throws {
        try flush()
        try handle.close()
    }
}

/// Writes the `newc` cpio format the kernel unpacks as an initramfs
/// (Documentation/driver-api/early-userspace/buffer-format.rst): entries in the order given, fixed owner
/// (root), fixed mtime, inode numbers by position, so the same entries always give the same bytes.
public struct CPIOWriter<Sink: ByteSink> {
    public private(set) var sink: Sink
    private let mtime: UInt32
    private var nextInode: UInt32 = 1
    private var finished = false

    /// `mtime` is written on every entry (SOURCE_DATE_EPOCH).
    public init(sink: Sink, mtime: UInt32) {
        self.sink = sink
        self.mtime = mtime
    }

    /// Appends one entry; host files are read in 1 MiB chunks.
    public mutating func append(_ entry: ArchiveEntry) throws {
        precondition(!finished, "append after finish")
        let mode = entry.typeBits | (entry.permissions & 0o7777)
        var rdev: (UInt32, UInt32) = (0, 0)
        switch entry.kind {
        case .directory:
            try header(entry.path, mode: mode, nlink: 2, size: 0, rdev: rdev)
        case .data(let bytes):
            try header(entry.path, mode: mode, nlink: 1, size: UInt32(bytes.count), rdev: rdev)
            try sink.write(bytes)
            try pad(bytes.count)
        case .symlink(let target):
            let bytes = Array(target.utf8)
            try header(entry.path, mode: mode, nlink: 1, size: UInt32(bytes.count), rdev: rdev)
            try sink.write(bytes)
            try pad(bytes.count)
        case .characterDevice(let major, let minor):
            rdev = (major, minor)
            try header(entry.path, mode: mode, nlink: 1, size: 0, rdev: rdev)
        case .hostFile(let path):
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw NetbootError(.missingInput, "cannot read \(path)")
            }
            defer { try? handle.close() }
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            guard let size = (attributes[.size] as? NSNumber)?.uint64Value, size < UInt64(UInt32.max) else {
                throw NetbootError(.badInput, "\(path) is too large for a newc archive (4 GiB limit)")
            }
            try header(entry.path, mode: mode, nlink: 1, size: UInt32(size), rdev: rdev)
            var written: UInt64 = 0
            while written < size {
                let chunk = try handle.read(upToCount: Int(min(size - written, 1 << 20))) ?? Data()
                if chunk.isEmpty { break }
                try sink.write(Array(chunk))
                written += UInt64(chunk.count)
            }
            guard written == size else { throw NetbootError(.io, "\(path) changed size while being archived") }
            try pad(Int(size))
        }
    }

    /// Writes the `TRAILER!!!` entry; returns the sink.
    public mutating func finish() throws -> Sink {
        nextInode = 0
        try header("TRAILER!!!", mode: 0, nlink: 1, size: 0, rdev: (0, 0), inode: 0)
        finished = true
        return sink
    }

    private mutating func header(
        _ name: String, mode: UInt32, nlink: UInt32, size: UInt32, rdev: (UInt32, UInt32), inode: UInt32? = nil
    ) throws {
        let nameBytes = Array(name.utf8) + [0]
        let ino = inode ?? nextInode
        if inode == nil { nextInode += 1 }
        // c_magic, c_ino, c_mode, c_uid, c_gid, c_nlink, c_mtime, c_filesize, c_devmajor, c_devminor,
        // c_rdevmajor, c_rdevminor, c_namesize, c_check: 8 hex digits each.
        let fields: [UInt32] = [ino, mode, 0, 0, nlink, mtime, size, 0, 0, rdev.0, rdev.1, UInt32(nameBytes.count), 0]
        var bytes = Array("070701".utf8)
        for field in fields { bytes += Array(Self.hex8(field).utf8) }
        bytes += nameBytes
        try sink.write(bytes)
        try pad(110 + nameBytes.count)
    }

    private mutating func pad(_ count: Int) throws {
        let extra = (4 - count % 4) % 4
        if extra > 0 { try sink.write([UInt8](repeating: 0, count: extra)) }
    }

    static func hex8(_ value: UInt32) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - text.count) + text
    }
}
