import Foundation
import GoldCore

#if canImport(Glibc)
    import Glibc
#endif

/// Copies a byte range between files without turning holes into written zeros: only the ranges
/// `SEEK_DATA`/`SEEK_HOLE` report as data are read and written (the target's range must already read as
/// zeros, as a fresh sparse image's does).
enum SparseCopy {
    /// Copies `count` bytes of `source` starting at `from` into `target` at `to`; returns the bytes written.
    @discardableResult
    static func copy(_ source: URL, from: UInt64 = 0, count: UInt64, into target: URL, at to: UInt64) throws -> UInt64 {
        let input = open(source.path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw AtomicFile.ioError("cannot open", source) }
        defer { close(input) }
        return try copy(input, name: source, from: from, count: count, into: target, at: to)
    }

    /// The same from an open file descriptor (a cache entry opened before it could be removed).
    @discardableResult
    static func copy(_ input: Int32, name source: URL, from: UInt64 = 0, count: UInt64, into target: URL, at to: UInt64)
        throws -> UInt64
    {
        let output = open(target.path, O_WRONLY | O_CLOEXEC)
        guard output >= 0 else { throw AtomicFile.ioError("cannot open", target) }
        defer { close(output) }
        var st = stat()
        guard fstat(input, &st) == 0 else { throw AtomicFile.ioError("cannot stat", source) }
        let end = min(UInt64(st.st_size), from + count)
        guard from < end else { return 0 }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        var written: UInt64 = 0
        for extent in DataExtents.scan(input, from: from, size: end) {
            var position = extent.lowerBound
            while position < extent.upperBound {
                let want = Int(min(UInt64(buffer.count), extent.upperBound - position))
                let n = pread(input, buffer.baseAddress!, want, off_t(position))
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw AtomicFile.ioError("cannot read", source) }
                var done = 0
                while done < n {
                    let m = pwrite(output, buffer.baseAddress! + done, n - done, off_t(to + position - from) + off_t(done))
                    if m < 0, errno == EINTR { continue }
                    guard m > 0 else { throw AtomicFile.ioError("cannot write", target) }
                    done += m
                }
                position += UInt64(n)
                written += UInt64(n)
            }
        }
        return written
    }
}
