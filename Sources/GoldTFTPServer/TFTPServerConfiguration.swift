import GoldTFTP

/// Settings of a ``TFTPServer``.
public struct TFTPServerConfiguration: Sendable, Hashable {
    /// Address to listen on: `::` (IPv6 and, on Linux, IPv4 too), `0.0.0.0`, `127.0.0.1`, `::1`, …
    public var host: String
    /// UDP port to listen on (69 is the TFTP port; 0 picks a free one, see ``TFTPServer/localAddress``).
    public var port: Int
    /// Serve every transfer from the listening port instead of a fresh ephemeral port per transfer
    /// (RFC 1350 §4 asks for a new TID; single-port helps through NAT and firewalls that only open port 69).
    public var singlePort: Bool
    /// Most transfers at once; more are refused with an ERROR packet.
    public var maxTransfers: Int
    /// Most transfers at once from one client IP address.
    public var maxPerClient: Int
    /// Largest block size granted (RFC 2348); 1468 fits a 1500-byte MTU over IPv4.
    public var maxBlockSize: Int
    /// Largest window granted (RFC 7440); 1 disables windowing.
    public var maxWindowSize: Int
    /// Retransmission timeout when the client sends no `timeout` option.
    public var defaultTimeout: Duration
    /// Retransmissions of one window before a transfer is abandoned.
    public var retries: Int
    /// Bytes read from a file at a time (files streamed from disk, not from the file cache).
    public var readChunkSize: Int
    /// Bytes of file contents kept in memory and shared by transfers (least recently used files are evicted
    /// first; a file larger than this is streamed from disk); 0 turns the cache off. A changed file is read
    /// again: the cache is keyed by device, inode, size, mtime and ctime.
    public var fileCacheBytes: Int
    /// A file whose ctime is less than this long ago is streamed, not cached: on a kernel with coarse
    /// timestamps a second write within the same clock tick could leave its ctime unchanged.
    public var fileCacheSettleTime: Duration
    /// Lock-step transfers (windowsize 1, own port) run on a thread of their own with blocking system calls
    /// while fewer than this many do (``TFTPLockStepThread``); the rest, windowed transfers and single-port mode
    /// run on the event loops. 0 runs everything on the event loops.
    public var lockStepThreads: Int
    /// How long such a thread polls for the ACK after each DATA before it sleeps, while the server runs no more
    /// transfers than ``lockStepThreads`` and the client's round trips fit; zero never polls.
    public var lockStepSpin: Duration

    /// Creates a configuration.
    public init(
        host: String = "::",
        port: Int = 69,
        singlePort: Bool = false,
        maxTransfers: Int = 512,
        maxPerClient: Int = 16,
        maxBlockSize: Int = 1468,
        maxWindowSize: Int = 64,
        defaultTimeout: Duration = .seconds(1),
        retries: Int = 5,
        readChunkSize: Int = 1 << 20,
        fileCacheBytes: Int = 256 << 20,
        fileCacheSettleTime: Duration = .seconds(1),
        lockStepThreads: Int = 2,
        lockStepSpin: Duration = .microseconds(100)
    ) {
        self.host = host
        self.port = port
        self.singlePort = singlePort
        self.maxTransfers = maxTransfers
        self.maxPerClient = maxPerClient
        self.maxBlockSize = maxBlockSize
        self.maxWindowSize = maxWindowSize
        self.defaultTimeout = defaultTimeout
        self.retries = retries
        self.readChunkSize = readChunkSize
        self.fileCacheBytes = fileCacheBytes
        self.fileCacheSettleTime = fileCacheSettleTime
        self.lockStepThreads = lockStepThreads
        self.lockStepSpin = lockStepSpin
    }

    var optionPolicy: TFTPOptionPolicy {
        TFTPOptionPolicy(maxBlockSize: self.maxBlockSize, maxWindowSize: self.maxWindowSize)
    }

    var transferConfiguration: TFTPReadTransfer.Configuration {
        TFTPReadTransfer.Configuration(
            timeout: self.defaultTimeout, retries: self.retries, readAheadBytes: self.readChunkSize)
    }
}
