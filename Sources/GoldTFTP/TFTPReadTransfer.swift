import NIOCore

/// The sending side of one read transfer (RRQ) as a value: events in, actions out, no I/O and no clock.
///
/// The caller feeds it packets from the client (``receive(_:now:)``), file data it asked for
/// (``receiveData(_:endOfFile:now:)``) and timer expiries (``timerFired(now:)``), and executes the returned
/// actions in order; `.send` actions of one call may be written together and flushed once.
///
/// - Lock-step (RFC 1350 §2) is windowed sending with a window of 1 (RFC 7440 §4).
/// - Duplicate or old ACKs never cause a send (no Sorcerer's Apprentice, RFC 1123 §4.2.3.1); only the timer
///   retransmits.
/// - Block numbers wrap 65535 → 0 so files of any length transfer whole; ACKs are mapped back to absolute block
///   numbers relative to the highest block sent.
public struct TFTPReadTransfer: Sendable {
    /// Something the caller must do.
    public enum Action: Hashable, Sendable {
        /// Send this packet to the client.
        case send(TFTPPacket)
        /// Call ``timerFired(now:)`` at (or after) this instant. A later `scheduleTimer` supersedes earlier ones;
        /// firing early is harmless (the machine asks again).
        case scheduleTimer(at: ContinuousClock.Instant)
        /// Read the next chunk of the file (sequentially, from where the last read ended) and pass it to
        /// ``receiveData(_:endOfFile:now:)``. Never requested again while a read is outstanding.
        case readData
        /// The transfer is over; release its resources. No further actions follow.
        case finished(TFTPTransferOutcome)
    }

    /// Retransmission settings.
    public struct Configuration: Hashable, Sendable {
        /// Time to wait for an ACK before retransmitting, used when the client sent no `timeout` option.
        public var timeout: Duration
        /// Retransmissions of the same window (or OACK) before giving up.
        public var retries: Int
        /// Ask for more file data when fewer unsent bytes than this are buffered.
        public var readAheadBytes: Int

        /// Creates a configuration.
        public init(timeout: Duration = .seconds(1), retries: Int = 5, readAheadBytes: Int = 1 << 20) {
            self.timeout = timeout
            self.retries = max(0, retries)
            self.readAheadBytes = max(1, readAheadBytes)
        }
    }

    /// Counters for the transfer record.
    public struct Statistics: Hashable, Sendable {
        /// DATA packets sent, retransmissions included.
        public var dataPacketsSent = 0
        /// DATA and OACK packets sent again after a timeout or a window restart.
        public var retransmissions = 0
        /// Timer expiries that led to a retransmission.
        public var timeouts = 0
    }

    private enum State: Hashable, Sendable {
        case idle
        case awaitingOptionAck
        case transferring
        case finished
    }

    /// The negotiated options this transfer runs with.
    public let options: TFTPNegotiatedOptions
    /// The transfer mode; netascii data is converted as it arrives from the file.
    public let mode: TFTPMode
    /// Retransmission settings.
    public let configuration: Configuration
    /// Counters.
    public private(set) var statistics = Statistics()

    private var state: State = .idle
    /// Stream bytes from the first unacknowledged block onward (stream offset `acked * blockSize`).
    private var pending = ByteBuffer()
    private var endOfFile = false
    private var readOutstanding = false
    /// Highest block acknowledged (absolute, 0 before any).
    private var acked: Int64 = 0
    /// Highest block sent in the current window.
    private var sentUpTo: Int64 = 0
    /// Highest block of the current window.
    private var windowEnd: Int64 = 0
    /// Absolute number of the final (short) block, once sent.
    private var finalBlock: Int64?
    private var retransmissionsOfWindow = 0
    private var highestEverSent: Int64 = 0
    private var deadline: ContinuousClock.Instant?

    /// Creates a transfer that will send with `options` (from ``TFTPNegotiatedOptions/negotiate(_:policy:fileSize:)``).
    public init(options: TFTPNegotiatedOptions, mode: TFTPMode = .octet, configuration: Configuration = Configuration())
    {
        self.options = options
        self.mode = mode
        self.configuration = configuration
    }

    /// Data bytes the client has acknowledged (netascii bytes in netascii mode).
    public var bytesAcknowledged: Int {
        let blocks = self.acked
        guard blocks > 0 else { return 0 }
        let full = Int(blocks - 1) * self.options.blockSize
        if let finalBlock, blocks == finalBlock {
            return full + self.finalBlockLength
        }
        return full + self.options.blockSize
    }

    private var finalBlockLength = 0

    /// True once a `.finished` action was returned.
    public var isFinished: Bool { self.state == .finished }

    private var timeout: Duration {
        if let seconds = self.options.timeoutSeconds { return .seconds(seconds) }
        return self.configuration.timeout
    }

    /// Starts the transfer: sends the OACK if options were acknowledged, and asks for the first file data.
    public mutating func start(now: ContinuousClock.Instant) -> [Action] {
        guard self.state == .idle else { return [] }
        var actions: [Action] = []
        if self.options.acknowledged.isEmpty {
            self.state = .transferring
            self.beginWindow(at: 1, now: now, into: &actions)
        } else {
            // RFC 2347 §2: after an OACK the client answers ACK 0 (or ERROR 8).
            self.state = .awaitingOptionAck
            actions.append(.send(.optionAck(self.options.acknowledged)))
            self.arm(now: now, into: &actions)
            self.requestDataIfNeeded(into: &actions)
        }
        return actions
    }

    /// Handles a packet from the client.
    public mutating func receive(_ packet: TFTPPacket, now: ContinuousClock.Instant) -> [Action] {
        switch (self.state, packet) {
        case (.finished, _), (.idle, _):
            return []
        case (_, .error(let code, let message)):
            return [self.finish(.abortedByClient(code, message))]
        case (_, .readRequest), (_, .writeRequest):
            // The client retransmitted its request before our first answer arrived; the timer covers it.
            return []
        case (.awaitingOptionAck, .ack(let block)):
            guard block == 0 else { return [] }
            self.state = .transferring
            var actions: [Action] = []
            self.beginWindow(at: 1, now: now, into: &actions)
            return actions
        case (.transferring, .ack(let block)):
            return self.receiveAck(block, now: now)
        case (_, .data), (_, .optionAck):
            let message = "unexpected \(packet.opcode) packet in a read transfer"
            return [.send(.error(code: .illegalOperation, message: message)), self.finish(.protocolViolation(message))]
        }
    }

    private mutating func receiveAck(_ wireBlock: UInt16, now: ContinuousClock.Instant) -> [Action] {
        // The absolute block is the highest one not above sentUpTo whose low 16 bits match (RFC 1350 block
        // numbers wrap; a client can only acknowledge what we sent).
        let reference = self.highestEverSent
        let distance = Int64(UInt16(truncatingIfNeeded: reference) &- wireBlock)
        let block = reference - distance
        // Old or duplicate ACK: never answer it with data (Sorcerer's Apprentice).
        guard block > self.acked else { return [] }
        let advancedBlocks = block - self.acked
        let advancedBytes = min(Int(advancedBlocks) * self.options.blockSize, self.pending.readableBytes)
        self.pending.moveReaderIndex(forwardBy: advancedBytes)
        self.acked = block
        if let finalBlock, block >= finalBlock {
            self.acked = finalBlock
            return [self.finish(.completed)]
        }
        self.retransmissionsOfWindow = 0
        var actions: [Action] = []
        // RFC 7440 §4: the ACK of the window's last block opens the next window; an earlier ACK restarts the
        // window right after the acknowledged block.
        self.beginWindow(at: block + 1, now: now, into: &actions)
        return actions
    }

    /// Handles file data asked for with `.readData`. `endOfFile` is true when no data follows this chunk.
    public mutating func receiveData(_ chunk: ByteBuffer, endOfFile: Bool, now: ContinuousClock.Instant) -> [Action] {
        guard self.state != .finished else { return [] }
        self.readOutstanding = false
        var chunk = self.mode == .netascii ? NetASCII.encode(chunk) : chunk
        if self.pending.readableBytes == 0 {
            self.pending = chunk
        } else {
            self.pending.discardReadBytes()
            self.pending.writeBuffer(&chunk)
        }
        self.endOfFile = endOfFile
        var actions: [Action] = []
        if self.state == .transferring && self.sentUpTo < self.windowEnd {
            let before = self.sentUpTo
            self.continueWindow(into: &actions)
            if self.sentUpTo > before { self.arm(now: now, into: &actions) }
        }
        self.requestDataIfNeeded(into: &actions)
        return actions
    }

    /// Reading the file failed: tells the client (ERROR 0) and ends the transfer.
    public mutating func readFailed(_ message: String, now: ContinuousClock.Instant) -> [Action] {
        guard self.state != .finished else { return [] }
        return [.send(.error(code: .notDefined, message: "read error")), self.finish(.readFailed(message))]
    }

    /// Handles the timer: retransmits the OACK or the current window, or gives up after the configured retries.
    public mutating func timerFired(now: ContinuousClock.Instant) -> [Action] {
        guard self.state == .awaitingOptionAck || self.state == .transferring, let deadline else { return [] }
        if now < deadline { return [.scheduleTimer(at: deadline)] }
        guard self.retransmissionsOfWindow < self.configuration.retries else {
            return [self.finish(.timedOut)]
        }
        self.retransmissionsOfWindow += 1
        self.statistics.timeouts += 1
        var actions: [Action] = []
        if self.state == .awaitingOptionAck {
            self.statistics.retransmissions += 1
            actions.append(.send(.optionAck(self.options.acknowledged)))
            self.arm(now: now, into: &actions)
        } else {
            self.beginWindow(at: self.acked + 1, now: now, into: &actions)
        }
        return actions
    }

    /// Ends the transfer from outside (server shutdown).
    public mutating func cancel() -> [Action] {
        guard self.state != .finished else { return [] }
        return [self.finish(.cancelled)]
    }

    // MARK: - Window

    private mutating func beginWindow(at first: Int64, now: ContinuousClock.Instant, into actions: inout [Action]) {
        self.sentUpTo = first - 1
        self.windowEnd = first + Int64(self.options.windowSize) - 1
        if let finalBlock { self.windowEnd = min(self.windowEnd, finalBlock) }
        self.continueWindow(into: &actions)
        if self.sentUpTo >= first { self.arm(now: now, into: &actions) } else { self.deadline = nil }
        self.requestDataIfNeeded(into: &actions)
    }

    /// Sends the blocks of the current window that the buffered data covers.
    private mutating func continueWindow(into actions: inout [Action]) {
        let blockSize = self.options.blockSize
        while self.sentUpTo < self.windowEnd {
            let block = self.sentUpTo + 1
            let offset = Int(block - 1 - self.acked) * blockSize
            let available = self.pending.readableBytes - offset
            let length: Int
            if available >= blockSize {
                length = blockSize
            } else if self.endOfFile {
                // RFC 1350 §6: a block shorter than blksize (possibly empty) ends the transfer.
                length = max(0, available)
                self.finalBlock = block
                self.finalBlockLength = length
                self.windowEnd = block
            } else {
                return
            }
            let payload = self.pending.getSlice(at: self.pending.readerIndex + offset, length: length) ?? ByteBuffer()
            actions.append(.send(.data(block: UInt16(truncatingIfNeeded: block), payload: payload)))
            self.statistics.dataPacketsSent += 1
            if block <= self.highestEverSent { self.statistics.retransmissions += 1 }
            self.sentUpTo = block
            self.highestEverSent = max(self.highestEverSent, block)
        }
    }

    private mutating func requestDataIfNeeded(into actions: inout [Action]) {
        guard !self.endOfFile, !self.readOutstanding, self.state != .finished else { return }
        let sentBytes = Int(self.sentUpTo - self.acked) * self.options.blockSize
        let unsent = self.pending.readableBytes - sentBytes
        let windowBytes = self.options.windowSize * self.options.blockSize
        guard unsent < max(self.configuration.readAheadBytes, windowBytes) else { return }
        self.readOutstanding = true
        actions.append(.readData)
    }

    private mutating func arm(now: ContinuousClock.Instant, into actions: inout [Action]) {
        let deadline = now + self.timeout
        self.deadline = deadline
        actions.append(.scheduleTimer(at: deadline))
    }

    private mutating func finish(_ outcome: TFTPTransferOutcome) -> Action {
        self.state = .finished
        self.deadline = nil
        self.pending = ByteBuffer()
        return .finished(outcome)
    }
}
