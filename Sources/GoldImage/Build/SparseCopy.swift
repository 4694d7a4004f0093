import Crypto
import Foundation
import GoldCore

#if canImport(Glibc)
    import Glibc
#endif

/// Copies a byte range between open files without turning holes into written zeros: only the ranges
/// `SEEK_DATA`/`SEEK_HOLE` report as data are read, and only the 4 KiB blocks of them that are not all zero are
/// written (the target's range must already read as zeros, as a fresh sparse image's does).
///
/// The copy returns a digest of what it copied that does not depend on how either file is laid out: SHA-256 over
/// each non-zero block's index (from the start of the range, 8 bytes little-endian) and bytes. Holes and blocks of
/// zeros count the same, so the same logical bytes give the same digest, however sparse the file holding them.
enum SparseCopy {
    static let blockSize: UInt64 = 4096

    /// An error reading the source (the caller may treat the source as unusable) rather than writing the target.
    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    /// Copies `count` bytes of `input` starting at `from` into `output` at `to` and returns the digest.
    /// Every range written to `output` is appended to `written` as it is written (also when the copy then fails),
    /// so a caller can zero them again.
    static func copy(
        _ input: Int32, name source: URL, from: UInt64 = 0, count: UInt64, into output: Int32, name target: URL,
        at to: UInt64, written: inout [Range<UInt64>]
    ) throws -> String {
        var hasher = SHA256()
        var st = stat()
        guard fstat(input, &st) == 0 else { throw ReadError(description: "cannot stat \(source.path)") }
        guard UInt64(st.st_size) >= from + count else {
            throw ReadError(description: "\(source.path) holds \(st.st_size) bytes, fewer than \(from + count)")
        }
        let end = from + count
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: Int(blockSize))
        defer { buffer.deallocate() }
        for extent in blockExtents(DataExtents.scan(input, from: from, size: end), from: from, end: end) {
            var position = extent.lowerBound
            while position < extent.upperBound {
                let want = Int(min(UInt64(buffer.count), extent.upperBound - position))
                try readFully(input, into: buffer.baseAddress!, count: want, at: position, name: source)
                // Write each run of non-zero blocks at once; hash each block with its index.
                var runStart: Int?
                var offset = 0
                while offset <= want {
                    let length = offset < want ? min(Int(blockSize), want - offset) : 0
                    let block = UnsafeRawBufferPointer(start: buffer.baseAddress! + offset, count: length)
                    let isData = length > 0 && !ChunkStore.isZero(block)
                    if isData {
                        var index = ((position + UInt64(offset) - from) / blockSize).littleEndian
                        withUnsafeBytes(of: &index) { hasher.update(bufferPointer: $0) }
                        hasher.update(bufferPointer: block)
                        if runStart == nil { runStart = offset }
                    } else if let start = runStart {
                        let at = to + position - from + UInt64(start)
                        try writeFully(
                            output, from: buffer.baseAddress! + start, count: offset - start, at: at, name: target)
                        written.append(at..<(at + UInt64(offset - start)))
                        runStart = nil
                    }
                    if length == 0 { break }
                    offset += length
                }
                position += UInt64(want)
            }
        }
        return hasher.finalize().hexString
    }

    /// Data extents widened to whole blocks counted from `from` (a block partly data is read whole) and merged.
    static func blockExtents(_ extents: [Range<UInt64>], from: UInt64, end: UInt64) -> [Range<UInt64>] {
        var out: [Range<UInt64>] = []
        for extent in extents where !extent.isEmpty {
            let lower = from + (extent.lowerBound - from) / blockSize * blockSize
            let upper = min(end, from + (extent.upperBound - from + blockSize - 1) / blockSize * blockSize)
            if let last = out.last, last.upperBound >= lower {
                out[out.count - 1] = last.lowerBound..<max(last.upperBound, upper)
            } else {
                out.append(lower..<upper)
            }
        }
        return out
    }

    /// Writes zeros over `ranges` of `output` (undoing a copy that turned out unusable).
    static func zero(_ output: Int32, name target: URL, ranges: [Range<UInt64>]) throws {
        let zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: Int(blockSize))
        defer { zeros.deallocate() }
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
        for range in ranges {
            var position = range.lowerBound
            while position < range.upperBound {
                let n = Int(min(UInt64(zeros.count), range.upperBound - position))
                try writeFully(output, from: zeros.baseAddress!, count: n, at: position, name: target)
                position += UInt64(n)
            }
        }
    }

    static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, at offset: UInt64, name: URL)
        throws
    {
        var done = 0
        while done < count {
            let n = pread(fd, buffer + done, count - done, off_t(offset) + off_t(done))
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                throw ReadError(
                    description: n == 0
                        ? "\(name.path) ended at \(offset + UInt64(done))"
                        : "cannot read \(name.path) at \(offset + UInt64(done)): \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    static func writeFully(_ fd: Int32, from buffer: UnsafeRawPointer, count: Int, at offset: UInt64, name: URL) throws
    {
        var done = 0
        while done < count {
            let n = pwrite(fd, buffer + done, count - done, off_t(offset) + off_t(done))
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw AtomicFile.ioError("cannot write", name) }
            done += n
        }
    }
}
