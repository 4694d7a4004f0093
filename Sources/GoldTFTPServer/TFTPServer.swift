import GoldTFTP
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Gold's read-only TFTP server, as a swift-service-lifecycle `Service`.
///
/// `run()` binds the listening socket, serves until graceful shutdown (new requests are refused, running
/// transfers finish) or cancellation (running transfers end at once), and returns when everything is closed.
public final class TFTPServer: Service, Sendable {
    /// The settings this server runs with.
    public let configuration: TFTPServerConfiguration
    private let context: TFTPServerContext
    private let listening = NIOLockedValueBox(ListeningState.notStarted([]))

    private enum ListeningState {
        case notStarted([CheckedContinuation<SocketAddress, any Error>])
        case listening(SocketAddress, Channel)
        case failed(any Error)
    }

    /// Creates a server; nothing happens until ``run()``.
    ///
    /// - Parameters:
    ///   - fileSource: Where files come from, e.g. ``DirectoryFileSource``.
    ///   - observer: Called with a ``TFTPTransferRecord`` for every finished or refused request.
    public init(
        configuration: TFTPServerConfiguration,
        fileSource: any TFTPFileSource,
        observer: TFTPTransferObserver? = nil,
        logger: Logger = Logger(label: "gold.tftp"),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        threadPool: NIOThreadPool = .singleton
    ) {
        self.configuration = configuration
        self.context = TFTPServerContext(
            configuration: configuration, fileSource: fileSource, observer: observer, logger: logger,
            registry: TransferRegistry(
                maxTransfers: configuration.maxTransfers, maxPerClient: configuration.maxPerClient),
            group: eventLoopGroup, threadPool: threadPool,
            fileCache: configuration.fileCacheBytes > 0
                ? TFTPFileCache(
                    budget: configuration.fileCacheBytes, threadPool: threadPool,
                    settleTime: configuration.fileCacheSettleTime) : nil,
            lockStepSlots: TFTPLockStepSlots(limit: configuration.lockStepThreads)
        )
    }

    /// Transfers running now.
    public var activeTransfers: Int { self.context.registry.activeCount }

    /// The file cache's counters (nil when it is off).
    var fileCacheStatistics: TFTPFileCache.Statistics? { self.context.fileCache?.statistics }

    /// The bound address (useful with port 0); waits until ``run()`` has bound it, throws if binding failed.
    public var localAddress: SocketAddress {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let result = self.listening.withLockedValue { state -> Result<SocketAddress, any Error>? in
                    switch state {
                    case .notStarted(var waiters):
                        waiters.append(continuation)
                        state = .notStarted(waiters)
                        return nil
                    case .listening(let address, _): return .success(address)
                    case .failed(let error): return .failure(error)
                    }
                }
                if let result { continuation.resume(with: result) }
            }
        }
    }

    /// Bytes of receive buffer asked for on the listening socket (the kernel caps it at net.core.rmem_max).
    static let listenerReceiveBuffer: SocketOptionValue = 4 << 20

    /// Serves until graceful shutdown or cancellation.
    public func run() async throws {
        let context = self.context
        let channel: Channel
        do {
            channel = try await DatagramBootstrap(group: context.group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                // A rack powering on sends hundreds of RRQs at once: room for them in the kernel (capped by
                // net.core.rmem_max) and more of them per wake-up, so fewer wait out a client timeout.
                .channelOption(.socketOption(.so_rcvbuf), value: Self.listenerReceiveBuffer)
                .channelOption(.maxMessagesPerRead, value: 16)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TFTPListenerHandler(server: context))
                    }
                }
                .bind(host: self.configuration.host, port: self.configuration.port)
                .get()
        } catch {
            self.setListening(.failure(error))
            context.logger.error(
                "TFTP server cannot listen",
                metadata: ["tftp.listen": "\(self.configuration.host):\(self.configuration.port)", "error": "\(error)"])
            throw error
        }
        guard let address = channel.localAddress else {
            channel.close(promise: nil)
            let error = ChannelError.unknownLocalAddress
            self.setListening(.failure(error))
            throw error
        }
        self.setListening(.success((address, channel)))
        context.logger.info(
            "TFTP server listening",
            metadata: ["tftp.listen": "\(address)", "tftp.singlePort": "\(self.configuration.singlePort)"]
        )
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await context.registry.waitUntilStoppedAndIdle()
            } onGracefulShutdown: {
                self.triggerGracefulShutdown()
            }
        } onCancel: {
            context.registry.stop(cancelRunning: true)
            channel.close(promise: nil)
        }
        try? await channel.close()
        context.logger.info("TFTP server stopped", metadata: ["tftp.listen": "\(address)"])
    }

    /// Stops accepting requests; ``run()`` returns when running transfers have finished.
    public func triggerGracefulShutdown() {
        self.context.registry.stop(cancelRunning: false)
        // In ephemeral mode the listening port can close now; in single-port mode it carries the transfers.
        if !self.configuration.singlePort, let channel = self.listeningChannel {
            channel.close(promise: nil)
        }
    }

    private var listeningChannel: Channel? {
        self.listening.withLockedValue { state in
            if case .listening(_, let channel) = state { return channel }
            return nil
        }
    }

    private func setListening(_ result: Result<(SocketAddress, Channel), any Error>) {
        let waiters = self.listening.withLockedValue { state -> [CheckedContinuation<SocketAddress, any Error>] in
            guard case .notStarted(let waiters) = state else { return [] }
            switch result {
            case .success(let (address, channel)): state = .listening(address, channel)
            case .failure(let error): state = .failed(error)
            }
            return waiters
        }
        for waiter in waiters { waiter.resume(with: result.map(\.0)) }
    }
}
