import GoldTFTP
import Logging
import NIOCore
import NIOPosix

/// Runs one ``TFTPReadTransfer`` on an event loop: writes its packets, arms its timer, reads its file.
///
/// Confined to `channel.eventLoop`. In ephemeral mode it owns a connected channel and closes it at the end; in
/// single-port mode it writes through the listening channel.
final class TFTPTransferDriver {
    private let channel: Channel
    let client: SocketAddress
    private let ownsChannel: Bool
    private var machine: TFTPReadTransfer
    private let file: TFTPFile
    private let readChunkSize: Int
    private let threadPool: NIOThreadPool
    private var readOffset = 0
    private var sendBuffer = ByteBuffer()
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var done = false
    private let onFinish: (TFTPTransferOutcome, TFTPReadTransfer) -> Void

    init(
        channel: Channel, client: SocketAddress, ownsChannel: Bool, machine: TFTPReadTransfer, file: TFTPFile,
        readChunkSize: Int, threadPool: NIOThreadPool,
        onFinish: @escaping (TFTPTransferOutcome, TFTPReadTransfer) -> Void
    ) {
        self.channel = channel
        self.client = client
        self.ownsChannel = ownsChannel
        self.machine = machine
        self.file = file
        self.readChunkSize = readChunkSize
        self.threadPool = threadPool
        self.onFinish = onFinish
    }

    func start() {
        self.execute(self.machine.start(now: .now))
    }

    /// A datagram from the client. Garbage is dropped: the timer recovers, and an ERROR would end the transfer.
    func receive(_ buffer: ByteBuffer) {
        guard !self.done, let packet = try? TFTPPacket.parse(buffer) else { return }
        self.execute(self.machine.receive(packet, now: .now))
    }

    func cancel() {
        self.execute(self.machine.cancel())
    }

    private func execute(_ actions: [TFTPReadTransfer.Action]) {
        var wrote = false
        var readRequested = false
        var outcome: TFTPTransferOutcome?
        for action in actions {
            switch action {
            case .send(let packet):
                // Reused: once the last datagram has left, its storage is ours alone again, so lock-step sends
                // allocate nothing; within a window the next ones get fresh storage (clear() copies on write).
                self.sendBuffer.clear(minimumCapacity: packet.encodedSizeHint)
                packet.encode(into: &self.sendBuffer)
                if self.ownsChannel {
                    // Connected to the client: a bare buffer skips NIO's per-write check of the address.
                    self.channel.write(self.sendBuffer, promise: nil)
                } else {
                    self.channel.write(
                        AddressedEnvelope(remoteAddress: self.client, data: self.sendBuffer), promise: nil)
                }
                wrote = true
            case .scheduleTimer(let instant):
                self.arm(at: instant)
            case .readData:
                readRequested = true
            case .finished(let result):
                outcome = result
            }
        }
        // One flush per event: a window goes out as one batch (sendmmsg).
        if wrote { self.channel.flush() }
        if let outcome {
            self.finish(outcome)
        } else if readRequested {
            self.read()
        }
    }

    /// Timers are armed lazily: an armed timer that fires no later than wanted is kept, and the state machine
    /// asks again when it fires early. This avoids a cancel and a schedule per ACK.
    private func arm(at instant: ContinuousClock.Instant) {
        let delay = ContinuousClock.now.duration(to: instant)
        let deadline =
            NIODeadline.now()
            + .nanoseconds(
                Int64(delay.components.seconds) * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000)
        if let current = self.timerDeadline, current <= deadline { return }
        self.timer?.cancel()
        self.timerDeadline = deadline
        self.timer = self.channel.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            self.timer = nil
            self.timerDeadline = nil
            guard !self.done else { return }
            self.execute(self.machine.timerFired(now: .now))
        }
    }

    private func read() {
        let offset = self.readOffset
        if case .memory(let buffer) = self.file.storage {
            // In memory (rendered, or from the file cache): the rest of the file at once, as a slice (no copy,
            // no thread-pool hop, no further reads).
            let length = max(0, self.file.size - offset)
            self.readOffset += length
            let chunk = buffer.getSlice(at: buffer.readerIndex + offset, length: length) ?? ByteBuffer()
            self.execute(self.machine.receiveData(chunk, endOfFile: true, now: .now))
            return
        }
        let length = min(self.readChunkSize, self.file.size - offset)
        self.readOffset += max(0, length)
        let endOfFile = self.readOffset >= self.file.size
        self.file.read(
            offset: offset, length: length, threadPool: self.threadPool, eventLoop: self.channel.eventLoop,
            allocator: self.channel.allocator
        )
        .assumeIsolated()
        .whenComplete { [self] result in
            guard !self.done else { return }
            switch result {
            case .success(let chunk):
                // A file that shrank since it was opened ends early; the client sees a short final block.
                let shortRead = chunk.readableBytes < length
                self.execute(self.machine.receiveData(chunk, endOfFile: endOfFile || shortRead, now: .now))
            case .failure(let error):
                self.execute(self.machine.readFailed("\(error)", now: .now))
            }
        }
    }

    private func finish(_ outcome: TFTPTransferOutcome) {
        guard !self.done else { return }
        self.done = true
        self.timer?.cancel()
        self.timer = nil
        if self.ownsChannel { self.channel.close(promise: nil) }
        self.onFinish(outcome, self.machine)
    }
}

extension TFTPPacket {
    var encodedSizeHint: Int {
        switch self {
        case .data(_, let payload): 4 + payload.readableBytes
        case .ack: 4
        default: 128
        }
    }
}
