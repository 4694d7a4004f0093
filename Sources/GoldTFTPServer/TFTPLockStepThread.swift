import GoldTFTP
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Slots for transfers that run on a thread of their own (``TFTPLockStepThread``).
final class TFTPLockStepSlots: Sendable {
    private let inUse = NIOLockedValueBox(0)
    let limit: Int

    init(limit: Int) { self.limit = max(0, limit) }

    func take() -> Bool {
        self.inUse.withLockedValue { count in
            guard count < self.limit else { return false }
            count += 1
            return true
        }
    }

    func give() { self.inUse.withLockedValue { $0 -= 1 } }
}

/// One lock-step transfer (windowsize 1, its own port) driven by a thread of its own with blocking system calls:
/// per block one `send` and one `recv`, and no event loop between the client's ACK and the next DATA.
///
/// A lock-step transfer is bound by the round trip, not by bandwidth, so what counts is the time from the ACK
/// reaching the socket to the next DATA leaving it. After each send the thread polls the socket for a short while
/// (``TFTPServerConfiguration/lockStepSpin``, yielding the CPU between polls) before it sleeps in `poll`: an ACK
/// that arrives meanwhile is taken without waking a sleeping thread, which on a virtual machine costs an
/// inter-processor interrupt. It only polls while the server runs no more transfers than it has threads for, and
/// only while the client's recent round trips fit in that time.
///
/// The protocol is the same ``TFTPReadTransfer`` the event-loop driver runs; only the I/O differs.
final class TFTPLockStepThread: @unchecked Sendable {
    private let fd: CInt
    private var machine: TFTPReadTransfer
    private let file: TFTPFile
    private let readChunkSize: Int
    private let spin: Duration
    private let quiet: @Sendable () -> Bool
    private let cancelled = NIOLockedValueBox(false)
    private var readOffset = 0
    private var deadline: ContinuousClock.Instant?
    private var outcome: TFTPTransferOutcome?
    private var sendBuffer = ByteBuffer()
    private var receiveBuffer = ByteBuffer()
    /// When the last datagram left, and a smoothed round trip (send to the client's next datagram).
    private var sentAt = ContinuousClock.now
    private var smoothedRoundTrip: Duration = .zero

    /// Opens a UDP socket bound to `host` on a fresh port and connected to `client`; nil if that fails.
    static func open(host: String, client: SocketAddress) throws -> CInt {
        let local = try SocketAddress.makeAddressResolvingHost(host, port: 0)
        let family = client.protocol.rawValue
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TFTPLockStepError("socket: errno \(errno)") }
        let bindTo: SocketAddress
        if local.protocol == client.protocol {
            bindTo = local
        } else if case .v4 = client, local.ipAddress == "::" {
            bindTo = try SocketAddress(ipAddress: "0.0.0.0", port: 0)
        } else {
            close(fd)
            throw TFTPLockStepError("listen address \(host) and client \(client) differ in family")
        }
        let bound = bindTo.withSockAddr { bind(fd, $0, socklen_t($1)) }
        guard bound == 0 else {
            let code = errno
            close(fd)
            throw TFTPLockStepError("bind \(bindTo): errno \(code)")
        }
        let connected = client.withSockAddr { connect(fd, $0, socklen_t($1)) }
        guard connected == 0 else {
            let code = errno
            close(fd)
            throw TFTPLockStepError("connect \(client): errno \(code)")
        }
        return fd
    }

    init(
        fd: CInt, machine: TFTPReadTransfer, file: TFTPFile, readChunkSize: Int, spin: Duration,
        quiet: @escaping @Sendable () -> Bool
    ) {
        self.fd = fd
        self.machine = machine
        self.file = file
        self.readChunkSize = readChunkSize
        self.spin = spin
        self.quiet = quiet
    }

    /// Ends the transfer at the next wake-up (within 50 ms).
    func cancel() { self.cancelled.withLockedValue { $0 = true } }

    /// Runs the transfer to its end on the calling thread; closes the socket.
    func run() -> (TFTPTransferOutcome, TFTPReadTransfer) {
        defer { close(self.fd) }
        self.execute(self.machine.start(now: .now))
        while self.outcome == nil {
            if self.cancelled.withLockedValue({ $0 }) {
                self.execute(self.machine.cancel())
                break
            }
            if self.receive(), let packet = try? TFTPPacket.parse(self.receiveBuffer) {
                self.execute(self.machine.receive(packet, now: .now))
            }
            // Checked after every datagram too: a client flooding duplicates cannot hold off the timer.
            if self.outcome == nil, let deadline = self.deadline, ContinuousClock.now >= deadline {
                self.deadline = nil
                self.execute(self.machine.timerFired(now: .now))
            }
        }
        return (self.outcome ?? .cancelled, self.machine)
    }

    /// Waits for one datagram until the timer's deadline (at most 50 ms, to notice a cancel); true if one came.
    private func receive() -> Bool {
        let now = ContinuousClock.now
        if self.spin > .zero, self.smoothedRoundTrip <= self.spin, self.quiet() {
            let until = min(now + self.spin, self.deadline ?? now + self.spin)
            repeat {
                if self.recvNow() { return true }
                sched_yield()
            } while ContinuousClock.now < until
        }
        var wait = Duration.milliseconds(50)
        if let deadline = self.deadline { wait = min(wait, max(.zero, ContinuousClock.now.duration(to: deadline))) }
        let (seconds, attoseconds) = wait.components
        // Milliseconds, rounded up: waking before the deadline would only loop.
        let milliseconds = Int32(seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
        var descriptor = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, milliseconds)
        return ready > 0 && self.recvNow()
    }

    /// One non-blocking `recv` into the reused buffer; false when nothing is there (or the client's port is
    /// closed: ICMP port unreachable, left to the retransmission timer like the event-loop driver does).
    private func recvNow() -> Bool {
        self.receiveBuffer.clear(minimumCapacity: 2048)
        let count = self.receiveBuffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 2048) { target in
            max(0, recv(self.fd, target.baseAddress, target.count, Int32(MSG_DONTWAIT)))
        }
        guard count > 0 else { return false }
        let roundTrip = self.sentAt.duration(to: .now)
        self.smoothedRoundTrip = (self.smoothedRoundTrip * 7 + roundTrip) / 8
        return true
    }

    private func execute(_ actions: [TFTPReadTransfer.Action]) {
        var readRequested = false
        for action in actions {
            switch action {
            case .send(let packet):
                self.sendBuffer.clear(minimumCapacity: packet.encodedSizeHint)
                packet.encode(into: &self.sendBuffer)
                // Never blocks (a stalled queue must not stop cancel); a failed send (a full queue, ECONNREFUSED
                // from an earlier ICMP) is left to the retransmission timer.
                _ = self.sendBuffer.withUnsafeReadableBytes {
                    send(self.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
                }
                self.sentAt = .now
            case .scheduleTimer(let instant):
                self.deadline = instant
            case .readData:
                readRequested = true
            case .finished(let result):
                self.outcome = result
                return
            }
        }
        if readRequested { self.read() }
    }

    private func read() {
        let offset = self.readOffset
        let chunk: ByteBuffer
        let endOfFile: Bool
        switch self.file.storage {
        case .memory(let buffer):
            let length = max(0, self.file.size - offset)
            chunk = buffer.getSlice(at: buffer.readerIndex + offset, length: length) ?? ByteBuffer()
            self.readOffset += length
            endOfFile = true
        case .descriptor(let descriptor):
            // At least 64 KiB at a time: a read continues synchronously into the next, so tiny chunks would
            // recurse deeply.
            let length = max(0, min(max(self.readChunkSize, 1 << 16), self.file.size - offset))
            do {
                chunk = try descriptor.read(offset: offset, length: length, allocator: ByteBufferAllocator())
            } catch {
                self.execute(self.machine.readFailed("\(error)", now: .now))
                return
            }
            self.readOffset += length
            // A file that shrank since it was opened ends early; the client sees a short final block.
            endOfFile = self.readOffset >= self.file.size || chunk.readableBytes < length
        }
        self.execute(self.machine.receiveData(chunk, endOfFile: endOfFile, now: .now))
    }
}

struct TFTPLockStepError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
