import Foundation
import GoldTFTP
import NIOCore
import NIOPosix

/// The handler of the listening channel: admits read requests, refuses the rest, and in single-port mode
/// routes each client's datagrams (by address and port) to its transfer.
final class TFTPListenerHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let server: TFTPServerContext
    private var channel: Channel?
    /// Single-port mode only: the running transfers by client transfer ID.
    private var transfers: [SocketAddress: TFTPTransferDriver] = [:]

    init(server: TFTPServerContext) {
        self.server = server
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.channel = context.channel
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        let client = envelope.remoteAddress
        if let driver = self.transfers[client] {
            driver.receive(envelope.data)
            return
        }
        let started = ContinuousClock.now
        let packet: TFTPPacket
        do {
            packet = try TFTPPacket.parse(envelope.data)
        } catch let error as TFTPError {
            self.refuse(client, filename: "", mode: nil, path: nil, error: error, started: started)
            return
        } catch {
            return
        }
        switch packet {
        case .readRequest(let request):
            self.admit(request, from: client, started: started)
        case .writeRequest(let request):
            // RFC 1350 §5 error 2: this server is read-only.
            let error = TFTPError(.readOnly, wireCode: .accessViolation, "write refused: this TFTP server is read-only")
            self.refuse(
                client, filename: request.filename, mode: request.mode, path: nil, error: error, started: started)
        case .error:
            return  // never answer an ERROR (RFC 1350 §7)
        case .data, .ack, .optionAck:
            // RFC 1350 §4: a packet for no known transfer gets error 5.
            self.send(.error(code: .unknownTransferID, message: "unknown transfer ID"), to: client)
        }
    }

    private func admit(_ request: TFTPRequest, from client: SocketAddress, started: ContinuousClock.Instant) {
        let path: String
        do {
            path = try TFTPPath.confine(request.filename)
        } catch {
            self.refuse(
                client, filename: request.filename, mode: request.mode, path: nil, error: error, started: started)
            return
        }
        if request.mode == .mail {
            let error = TFTPError(.unsupportedMode, wireCode: .illegalOperation, "mail mode is not supported")
            self.refuse(
                client, filename: request.filename, mode: request.mode, path: path, error: error, started: started)
            return
        }
        switch self.server.registry.admit(client) {
        case .admitted:
            break
        case .duplicate:
            return  // the client retransmitted its RRQ; the running transfer answers it
        case .serverBusy(let limit):
            let error = TFTPError(
                .busy, wireCode: .notDefined, "server busy: \(limit) transfers running, try again later")
            self.refuse(
                client, filename: request.filename, mode: request.mode, path: path, error: error, started: started)
            return
        case .clientBusy(let limit):
            let error = TFTPError(.busy, wireCode: .notDefined, "too many transfers from this client (limit \(limit))")
            self.refuse(
                client, filename: request.filename, mode: request.mode, path: path, error: error, started: started)
            return
        case .stopping:
            let error = TFTPError(.busy, wireCode: .notDefined, "server shutting down")
            self.refuse(
                client, filename: request.filename, mode: request.mode, path: path, error: error, started: started)
            return
        }
        guard let channel = self.channel else { return }
        let source = self.server.fileSource
        let cache = self.server.fileCache
        let promise = channel.eventLoop.makePromise(of: TFTPFile.self)
        promise.completeWithTask {
            let file = try await source.open(path, client: client)
            guard let cache else { return file }
            return await cache.serve(file)
        }
        promise.futureResult.assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let file):
                self.begin(request, path: path, file: file, client: client, started: started)
            case .failure(let error as TFTPError):
                self.refuse(
                    client, filename: request.filename, mode: request.mode, path: path, error: error, started: started,
                    release: true)
            case .failure(let error):
                self.server.logger.error(
                    "TFTP file source failed", metadata: ["tftp.file": "\(path)", "error": "\(error)"])
                let refusal = TFTPError(.fileNotFound, wireCode: .fileNotFound, "'\(path)' not found")
                self.refuse(
                    client, filename: request.filename, mode: request.mode, path: path, error: refusal,
                    started: started, release: true)
            }
        }
    }

    private func begin(
        _ request: TFTPRequest, path: String, file: TFTPFile, client: SocketAddress, started: ContinuousClock.Instant
    ) {
        let options: TFTPNegotiatedOptions
        do {
            // netascii changes the size, so tsize is only answered in octet mode.
            options = try TFTPNegotiatedOptions.negotiate(
                request, policy: self.server.configuration.optionPolicy,
                fileSize: request.mode == .octet ? file.size : nil
            )
        } catch {
            self.refuse(
                client, filename: request.filename, mode: request.mode, path: path, error: error, started: started,
                release: true)
            return
        }
        guard let listener = self.channel else { return }
        let machine = TFTPReadTransfer(
            options: options, mode: request.mode, configuration: self.server.configuration.transferConfiguration)
        let server = self.server
        let onFinish: @Sendable (TFTPTransferOutcome, TFTPReadTransfer) -> Void = { outcome, machine in
            // Report before releasing the slot: run() returns once the last slot is free.
            defer { server.registry.release(client) }
            server.report(
                TFTPTransferRecord(
                    client: client, requestedFilename: request.filename, path: path, mode: request.mode,
                    fileSize: file.size,
                    bytesSent: machine.bytesAcknowledged, outcome: outcome, duration: started.duration(to: .now),
                    options: options, statistics: machine.statistics
                )
            )
        }
        if server.configuration.singlePort {
            let driver = TFTPTransferDriver(
                channel: listener, client: client, ownsChannel: false, machine: machine, file: file,
                readChunkSize: server.configuration.readChunkSize, threadPool: server.threadPool
            ) { [self] outcome, machine in
                self.transfers[client] = nil
                onFinish(outcome, machine)
            }
            self.transfers[client] = driver
            let bound = NIOLoopBound(driver, eventLoop: listener.eventLoop)
            server.registry.setCancel({ bound.execute { $0.cancel() } }, for: client)
            driver.start()
        } else if options.windowSize == 1, server.lockStepSlots.take() {
            Self.startOnThread(server: server, client: client, machine: machine, file: file, onFinish: onFinish)
        } else {
            Self.startEphemeral(server: server, client: client, machine: machine, file: file, onFinish: onFinish)
        }
    }

    /// A lock-step transfer on a thread of its own (``TFTPLockStepThread``); its slot is taken.
    private static func startOnThread(
        server: TFTPServerContext, client: SocketAddress, machine: TFTPReadTransfer, file: TFTPFile,
        onFinish: @escaping @Sendable (TFTPTransferOutcome, TFTPReadTransfer) -> Void
    ) {
        let fd: CInt
        do {
            fd = try TFTPLockStepThread.open(host: server.configuration.host, client: client)
        } catch {
            server.lockStepSlots.give()
            server.logger.notice(
                "TFTP transfer thread unavailable, using the event loop",
                metadata: ["tftp.client": "\(client)", "error": "\(error)"])
            Self.startEphemeral(server: server, client: client, machine: machine, file: file, onFinish: onFinish)
            return
        }
        let registry = server.registry
        let threads = server.lockStepSlots
        let transfer = TFTPLockStepThread(
            fd: fd, machine: machine, file: file, readChunkSize: server.configuration.readChunkSize,
            spin: server.configuration.lockStepSpin, quiet: { registry.activeCount <= threads.limit })
        server.registry.setCancel({ transfer.cancel() }, for: client)
        Thread.detachNewThread {
            let (outcome, machine) = transfer.run()
            threads.give()
            onFinish(outcome, machine)
        }
    }

    /// RFC 1350 §4: the server answers from a fresh port (its transfer ID), connected to the client's.
    private static func startEphemeral(
        server: TFTPServerContext, client: SocketAddress, machine: TFTPReadTransfer, file: TFTPFile,
        onFinish: @escaping @Sendable (TFTPTransferOutcome, TFTPReadTransfer) -> Void
    ) {
        DatagramBootstrap(group: server.group)
            // A transfer's client sends one ACK per window: one recvmsg per wake-up, no extra EAGAIN read.
            .channelOption(.maxMessagesPerRead, value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TFTPTransferChannelHandler())
                }
            }
            .bind(host: server.configuration.host, port: 0)
            .flatMap { channel in channel.connect(to: client).map { channel } }
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    channel.eventLoop.execute {
                        guard
                            let handler = try? channel.pipeline.syncOperations.handler(
                                type: TFTPTransferChannelHandler.self)
                        else {
                            channel.close(promise: nil)
                            onFinish(.readFailed("transfer channel lost its handler"), machine)
                            return
                        }
                        let driver = TFTPTransferDriver(
                            channel: channel, client: client, ownsChannel: true, machine: machine, file: file,
                            readChunkSize: server.configuration.readChunkSize, threadPool: server.threadPool,
                            onFinish: onFinish
                        )
                        handler.driver = driver
                        let bound = NIOLoopBound(driver, eventLoop: channel.eventLoop)
                        server.registry.setCancel({ bound.execute { $0.cancel() } }, for: client)
                        driver.start()
                    }
                case .failure(let error):
                    server.logger.error(
                        "TFTP cannot open a transfer port", metadata: ["tftp.client": "\(client)", "error": "\(error)"])
                    onFinish(.readFailed("cannot open a transfer port: \(error)"), machine)
                }
            }
    }

    private func refuse(
        _ client: SocketAddress, filename: String, mode: TFTPMode?, path: String?, error: TFTPError,
        started: ContinuousClock.Instant, release: Bool = false
    ) {
        defer { if release { self.server.registry.release(client) } }
        self.send(error.packet, to: client)
        self.server.report(
            TFTPTransferRecord(
                client: client, requestedFilename: filename, path: path, mode: mode, fileSize: nil, bytesSent: 0,
                outcome: .refused(error.wireCode, error.message), duration: started.duration(to: .now), options: nil,
                statistics: nil
            )
        )
    }

    private func send(_ packet: TFTPPacket, to client: SocketAddress) {
        guard let channel = self.channel, channel.isActive else { return }
        var buffer = channel.allocator.buffer(capacity: 64)
        packet.encode(into: &buffer)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: client, data: buffer), promise: nil)
    }
}

extension NIOLoopBound where Value == TFTPTransferDriver {
    /// Runs `body` with the driver on its event loop.
    func execute(_ body: @escaping @Sendable (Value) -> Void) {
        self.eventLoop.execute { body(self.value) }
    }
}
