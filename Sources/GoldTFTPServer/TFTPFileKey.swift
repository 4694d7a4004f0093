#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The identity of one version of a file's contents, from `fstat`: device, inode, size, modification and change
/// times.
///
/// Writing to a file moves its change time (ctime), which no user can set back, and replacing a file (rename)
/// changes its inode; either way a changed file gets a new key, so a cache keyed by it never serves stale bytes.
struct TFTPFileKey: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int
    var modified: Timestamp
    var changed: Timestamp

    /// A `struct timespec` as a value: seconds and nanoseconds since the epoch.
    struct Timestamp: Hashable, Comparable, Sendable {
        var seconds: Int
        var nanoseconds: Int

        static func < (lhs: Self, rhs: Self) -> Bool {
            (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
        }

        /// This instant plus `duration` (non-negative).
        func adding(_ duration: Duration) -> Timestamp {
            let (seconds, attoseconds) = duration.components
            let nanoseconds = self.nanoseconds + Int(attoseconds / 1_000_000_000)
            return Timestamp(
                seconds: self.seconds + Int(seconds) + nanoseconds / 1_000_000_000,
                nanoseconds: nanoseconds % 1_000_000_000)
        }

        /// The wall clock now (`CLOCK_REALTIME`, the clock file times are taken from).
        static func now() -> Timestamp {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            return Timestamp(now)
        }

        init(seconds: Int, nanoseconds: Int) {
            self.seconds = seconds
            self.nanoseconds = nanoseconds
        }

        init(_ time: timespec) {
            self.init(seconds: Int(time.tv_sec), nanoseconds: Int(time.tv_nsec))
        }
    }

    init(device: UInt64, inode: UInt64, size: Int, modified: Timestamp, changed: Timestamp) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modified = modified
        self.changed = changed
    }

    init(_ info: stat) {
        #if canImport(Darwin)
            let modified = info.st_mtimespec
            let changed = info.st_ctimespec
        #else
            let modified = info.st_mtim
            let changed = info.st_ctim
        #endif
        self.init(
            device: UInt64(truncatingIfNeeded: info.st_dev), inode: UInt64(truncatingIfNeeded: info.st_ino),
            size: Int(info.st_size), modified: Timestamp(modified), changed: Timestamp(changed))
    }

    /// The key of the open file `fd` now, or nil if `fstat` fails.
    static func of(descriptor fd: CInt) -> TFTPFileKey? {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        return TFTPFileKey(info)
    }
}
