import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// File contents shared by transfers: a boot storm fetches the same iPXE, kernel or initrd file hundreds of times,
/// so each version of a file is read once (on the thread pool) and every transfer sends slices of the same bytes.
///
/// Keyed by ``TFTPFileKey`` (device, inode, size, mtime, ctime), so a file changed or replaced on disk is a miss
/// and read again. Files whose ctime is within `settleTime` of now are not kept: on a kernel with coarse
/// timestamps, a write in the same clock tick could leave ctime unchanged, and such a file is streamed from disk
/// as before. Files larger than the budget are streamed too. Evicted contents stay alive until the transfers
/// sending them end.
final class TFTPFileCache: Sendable {
    /// Counters, for tests and logs.
    struct Statistics: Hashable, Sendable {
        /// Requests answered from memory, including those that waited for another request's read.
        var hits = 0
        /// Files read whole into memory.
        var loads = 0
        /// Requests streamed from disk (too large, changed lately, changed while read, or a read error).
        var bypassed = 0
        /// Files dropped for room.
        var evictions = 0
    }

    private struct State: Sendable {
        var index: TFTPFileCacheIndex
        var loading: [TFTPFileKey: Task<ByteBuffer?, Never>] = [:]
        var statistics = Statistics()
    }

    private let state: NIOLockedValueBox<State>
    private let threadPool: NIOThreadPool
    private let settleTime: Duration
    private let now: @Sendable () -> TFTPFileKey.Timestamp

    /// - Parameters:
    ///   - budget: Most bytes of contents kept (least recently used files are evicted first).
    ///   - settleTime: How long ago a file must have last changed to be kept.
    ///   - now: The wall clock, as file times are (injected by tests).
    init(
        budget: Int, threadPool: NIOThreadPool, settleTime: Duration = .seconds(1),
        now: @escaping @Sendable () -> TFTPFileKey.Timestamp = { .now() }
    ) {
        self.state = NIOLockedValueBox(State(index: TFTPFileCacheIndex(budget: budget)))
        self.threadPool = threadPool
        self.settleTime = settleTime
        self.now = now
    }

    var statistics: Statistics { self.state.withLockedValue { $0.statistics } }

    /// Bytes of contents kept now.
    var usedBytes: Int { self.state.withLockedValue { $0.index.usedBytes } }

    /// True if this version of the file is kept now.
    func contains(_ key: TFTPFileKey) -> Bool { self.state.withLockedValue { $0.index.contains(key) } }

    /// `file` with its bytes from memory when they are (or can be) cached, else `file` itself, to be streamed.
    ///
    /// The first request for a version reads it whole on the thread pool; requests arriving meanwhile wait for
    /// that read instead of starting their own.
    func serve(_ file: TFTPFile) async -> TFTPFile {
        guard case .descriptor(let descriptor) = file.storage, let key = file.key else { return file }
        let settled = key.changed.adding(self.settleTime) <= self.now()
        enum Step {
            case hit(ByteBuffer)
            case wait(Task<ByteBuffer?, Never>, loader: Bool)
            case stream
        }
        let step = self.state.withLockedValue { state -> Step in
            if let bytes = state.index.lookup(key) {
                state.statistics.hits += 1
                return .hit(bytes)
            }
            if let loading = state.loading[key] {
                return .wait(loading, loader: false)
            }
            guard settled, state.index.fits(size: key.size) else {
                state.statistics.bypassed += 1
                return .stream
            }
            state.statistics.loads += 1
            // Unstructured: every reader of this file awaits the one load, whichever request started it.
            let task = Task { await self.load(descriptor, key: key) }
            state.loading[key] = task
            return .wait(task, loader: true)
        }
        switch step {
        case .hit(let bytes):
            return .bytes(bytes)
        case .stream:
            return file
        case .wait(let task, let loader):
            let bytes = await task.value
            self.state.withLockedValue { state in
                if bytes == nil {
                    state.statistics.bypassed += 1
                } else if !loader {
                    state.statistics.hits += 1
                }
            }
            guard let bytes else { return file }
            return .bytes(bytes)
        }
    }

    /// Reads the whole file and keeps it if it is still the version `key` names afterwards.
    private func load(_ descriptor: FileDescriptor, key: TFTPFileKey) async -> ByteBuffer? {
        let bytes = try? await self.threadPool.runIfActive { () -> ByteBuffer? in
            let bytes = try descriptor.read(offset: 0, length: key.size, allocator: ByteBufferAllocator())
            // Changed while we read it: the bytes may mix two versions, so stream it instead.
            guard bytes.readableBytes == key.size, TFTPFileKey.of(descriptor: descriptor.fd) == key else {
                return nil
            }
            return bytes
        }
        return self.state.withLockedValue { state -> ByteBuffer? in
            state.loading[key] = nil
            guard let bytes = bytes ?? nil else { return nil }
            state.statistics.evictions += state.index.insert(key, bytes).count
            return bytes
        }
    }
}
