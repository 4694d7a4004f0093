import GoldDHCP
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Gold's DHCP/proxyDHCP server: UDP sockets around a `DHCPResponder`. `run()` returns when the service
/// group shuts down gracefully or the task is cancelled.
public final class DHCPServer: Service, Sendable {
    private typealias Channel = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>

    let configuration: DHCPServerConfiguration
    private let leaseStore: any LeaseStore
    let group: any EventLoopGroup
    private let logger: Logger
    private let clock: @Sendable () -> Date
    private let onEvent: @Sendable (DHCPEvent) -> Void
    private let responder: Mutex<DHCPResponder>
    private let listening = ListeningState()

    /// A server answering with `policy`, persisting leases in `leaseStore`, reporting every request to `onEvent`.
    public init(
        configuration: DHCPServerConfiguration, policy: any BootPolicy,
        leaseStore: any LeaseStore = InMemoryLeaseStore(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "gold.dhcp"), clock: @escaping @Sendable () -> Date = { Date() },
        onEvent: @escaping @Sendable (DHCPEvent) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.leaseStore = leaseStore
        self.group = eventLoopGroup
        self.logger = logger
        self.clock = clock
        self.onEvent = onEvent
        self.responder = Mutex(DHCPResponder(configuration: configuration.responder, policy: policy))
    }

    /// Replaces fleet, mode or addressing while running; leases are kept.
    public func update(configuration: DHCPResponderConfiguration) {
        responder.withLock { $0.configuration = configuration }
    }

    /// Replaces the boot policy while running.
    public func update(policy: any BootPolicy) {
        responder.withLock { $0.policy = policy }
    }

    /// The local addresses of the DHCP socket and, if any, the PXE socket, once `run()` has bound them;
    /// throws if `run()` failed before.
    public func listeningAddresses() async throws -> [SocketAddress] {
        try await listening.wait()
    }

    public func run() async throws {
        do {
            let stored = try await leaseStore.loadLeases()
            responder.withLock {
                $0 = DHCPResponder(configuration: $0.configuration, policy: $0.policy, leases: stored)
            }
            var channels: [(DHCPResponder.Port, Channel)] = [(.dhcp, try await open(configuration.dhcpListener))]
            if let pxe = configuration.pxeListener {
                channels.append((.pxe, try await open(pxe)))
            }
            let addresses = channels.compactMap { $0.1.channel.localAddress }
            logger.info(
                "DHCP server listening",
                metadata: [
                    "addresses": "\(addresses.map(String.init(describing:)))",
                    "interface": "\(configuration.interface ?? "any")", "leases": "\(stored.count)",
                ])
            listening.succeed(addresses)
            try await serve(channels)
        } catch {
            listening.fail(error)
            throw error
        }
    }

    private func serve(_ channels: [(DHCPResponder.Port, Channel)]) async throws {
        let underlying = channels.map(\.1.channel)
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    try await withThrowingDiscardingTaskGroup { group in
                        for (port, channel) in channels {
                            group.addTask {
                                try await channel.executeThenClose { inbound, outbound in
                                    for try await envelope in inbound {
                                        await self.handle(envelope, on: port, outbound: outbound)
                                    }
                                }
                            }
                        }
                    }
                }
                if let interval = configuration.expirySweepInterval {
                    tasks.addTask { await self.sweepExpiredLeases(every: interval) }
                }
                // The sockets closing ends the server; the sweep only stops with it.
                try await tasks.next()
                tasks.cancelAll()
            }
        } onCancelOrGracefulShutdown: {
            for channel in underlying { channel.close(promise: nil) }
        }
        logger.info("DHCP server stopped")
    }

    /// Drops ended leases from the table and the store even when no client asks for a while.
    private func sweepExpiredLeases(every interval: Duration) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            let now = clock()
            let changes = responder.withLock { $0.expire(now: now) }
            guard !changes.isEmpty else { continue }
            logger.info("DHCP leases expired", metadata: ["count": "\(changes.count)"])
            do {
                try await leaseStore.apply(changes)
            } catch {
                logger.error("could not store expired leases", metadata: ["error": "\(error)"])
            }
        }
    }

    private func handle(
        _ envelope: AddressedEnvelope<ByteBuffer>, on port: DHCPResponder.Port,
        outbound: NIOAsyncChannelOutboundWriter<AddressedEnvelope<ByteBuffer>>
    ) async {
        let request: DHCPMessage
        do {
            request = try DHCPMessage(parsing: envelope.data)
        } catch {
            logger.debug(
                "unreadable DHCP datagram", metadata: ["from": "\(envelope.remoteAddress)", "error": "\(error)"])
            return
        }
        let now = clock()
        let response = responder.withLock { $0.respond(to: request, on: port, now: now) }
        log(response.event, from: envelope.remoteAddress)
        onEvent(response.event)
        if !response.leaseChanges.isEmpty {
            do {
                try await leaseStore.apply(response.leaseChanges)
            } catch {
                logger.error("could not store leases", metadata: ["error": "\(error)"])
            }
        }
        guard let reply = response.reply else { return }
        do {
            let target = try address(for: reply.destination, sender: envelope.remoteAddress)
            try await outbound.write(AddressedEnvelope(remoteAddress: target, data: reply.message.encoded()))
        } catch {
            logger.warning(
                "could not send DHCP reply",
                metadata: ["mac": "\(response.event.mac.map(String.init(describing:)) ?? "?")", "error": "\(error)"])
        }
    }

    private func address(for destination: DHCPDestination, sender: SocketAddress) throws -> SocketAddress {
        switch destination {
        case .clientBroadcast:
            try SocketAddress(ipAddress: configuration.broadcastAddress.description, port: configuration.clientPort)
        case .client(let address):
            try SocketAddress(ipAddress: address.description, port: configuration.clientPort)
        case .relay(let address):
            try SocketAddress(ipAddress: address.description, port: configuration.relayPort)
        case .sender:
            sender
        }
    }

    private func log(_ event: DHCPEvent, from sender: SocketAddress) {
        var metadata: Logger.Metadata = [
            "mac": "\(event.mac.map(String.init(describing:)) ?? "?")",
            "request": "\(event.requestType.map(String.init(describing:)) ?? "BOOTP")",
            "xid": "\(String(event.xid, radix: 16))", "from": "\(sender)", "reason": "\(event.reason)",
        ]
        if let address = event.offeredAddress { metadata["address"] = "\(address)" }
        if let bootfile = event.bootfile { metadata["bootfile"] = "\(bootfile)" }
        if let architecture = event.architecture { metadata["arch"] = "\(architecture)" }
        switch event.outcome {
        case .replied(let type):
            metadata["reply"] = "\(type)"
            logger.info("DHCP reply", metadata: metadata)
        case .ignored:
            logger.debug("DHCP request ignored", metadata: metadata)
        }
    }
}
