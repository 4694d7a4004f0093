import NIOCore

@testable import GoldTFTP

/// Drives a `TFTPReadTransfer` like the server adapter does, with a file in memory and a fake clock.
struct TransferHarness {
    var machine: TFTPReadTransfer
    let file: [UInt8]
    let chunkSize: Int
    var readOffset = 0
    var now: ContinuousClock.Instant
    /// Packets sent to the client, in order, not yet taken by the test.
    var outbox: [TFTPPacket] = []
    var timerAt: ContinuousClock.Instant?
    var outcome: TFTPTransferOutcome?
    /// Automatically answer `.readData` (false lets a test hold the disk back).
    var autoRead = true
    var pendingRead = false

    init(
        file: [UInt8], options: TFTPNegotiatedOptions = TFTPNegotiatedOptions(), mode: TFTPMode = .octet,
        configuration: TFTPReadTransfer.Configuration = .init(timeout: .seconds(1), retries: 3, readAheadBytes: 4096),
        chunkSize: Int = 4096
    ) {
        self.machine = TFTPReadTransfer(options: options, mode: mode, configuration: configuration)
        self.file = file
        self.chunkSize = chunkSize
        self.now = ContinuousClock.now
    }

    mutating func start() { self.execute(self.machine.start(now: self.now)) }

    mutating func receive(_ packet: TFTPPacket) { self.execute(self.machine.receive(packet, now: self.now)) }

    mutating func ack(_ block: UInt16) { self.receive(.ack(block: block)) }

    /// Advances the clock to the pending timer and fires it.
    mutating func fireTimer() {
        guard let at = self.timerAt else { return }
        self.now = max(self.now, at)
        self.timerAt = nil
        self.execute(self.machine.timerFired(now: self.now))
    }

    mutating func take() -> [TFTPPacket] {
        defer { self.outbox = [] }
        return self.outbox
    }

    mutating func supplyRead() {
        self.pendingRead = false
        let end = min(self.file.count, self.readOffset + self.chunkSize)
        let chunk = ByteBuffer(bytes: self.file[self.readOffset..<end])
        self.readOffset = end
        self.execute(self.machine.receiveData(chunk, endOfFile: end == self.file.count, now: self.now))
    }

    mutating func execute(_ actions: [TFTPReadTransfer.Action]) {
        var readRequested = false
        for action in actions {
            precondition(self.outcome == nil, "action \(action) after finished")
            switch action {
            case .send(let packet): self.outbox.append(packet)
            case .scheduleTimer(let at): self.timerAt = at
            case .readData:
                precondition(!self.pendingRead, "readData while a read is outstanding")
                self.pendingRead = true
                readRequested = true
            case .finished(let outcome):
                self.outcome = outcome
                self.timerAt = nil
            }
        }
        if readRequested && self.autoRead { self.supplyRead() }
    }
}

extension TFTPPacket {
    var dataBlock: UInt16? {
        if case .data(let block, _) = self { return block }
        return nil
    }

    var dataPayload: [UInt8]? {
        if case .data(_, let payload) = self { return Array(payload.readableBytesView) }
        return nil
    }
}

/// Deterministic pseudo-random numbers (SplitMix64) so a lossy-network test replays exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func pattern(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
}
