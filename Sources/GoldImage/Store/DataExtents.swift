import Foundation
import GoldCore

#if canImport(Glibc)
    import Glibc
#endif

/// Where a sparse file holds data, from `lseek(SEEK_DATA/SEEK_HOLE)`: a copy reads only these ranges and treats
/// the rest as zeros without reading it (``SparseCopy``).
///
/// A file system may report a hole as data (then the bytes are read and found zero), never data as a hole.
enum DataExtents {
    /// Byte ranges holding data in the open file `fd` between `start` and `size`; all of it when the file
    /// system cannot say (EINVAL/ENOTSUP).
    static func scan(_ fd: Int32, from start: UInt64 = 0, size: UInt64) -> [Range<UInt64>] {
        let seekData: Int32 = 3  // SEEK_DATA (Linux, <unistd.h>)
        let seekHole: Int32 = 4  // SEEK_HOLE
        var ranges: [Range<UInt64>] = []
        var position = off_t(start)
        while UInt64(position) < size {
            let data = lseek(fd, position, seekData)
            if data < 0 {
                if errno == ENXIO { break }  // no data after position
                return ranges + [UInt64(position)..<size]
            }
            guard UInt64(data) < size else { break }  // the next data lies past the range asked
            var end = lseek(fd, data, seekHole)
            if end < 0 { end = off_t(size) }
            ranges.append(UInt64(data)..<min(size, UInt64(end)))
            position = end
        }
        return ranges
    }
}
