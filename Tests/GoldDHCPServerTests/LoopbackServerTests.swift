import Foundation
import GoldDHCP
import GoldDHCPServer
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing

@Suite("DHCP server on loopback")
struct LoopbackServerTests {
    typealias Client = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>

    static let mac = MACAddress("52:54:00:12:34:56")!
    static let serverAddress = IPv4Address(127, 0, 0, 1)

    static func clientChannel() async throws -> Client {
        try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture { try Client(wrappingChannelSynchronously: channel) }
            }
    }

    static func request(_ type: DHCPMessageType, xid: UInt32, options: [DHCPOption] = []) -> DHCPMessage {
        DHCPMessage(
            op: DHCPMessage.bootRequest, xid: xid, flags: DHCPMessage.broadcastFlag, chaddr: mac.bytes,
            options: [.messageType(type)] + options)
    }

    /// Runs `server` in a service group, gives `body` its bound addresses, then shuts down gracefully and
    /// checks that `run()` returned.
    static func withRunningServer(
        _ server: DHCPServer, _ body: ([SocketAddress]) async throws -> Void
    ) async throws {
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let addresses = try await server.listeningAddresses()
            try await body(addresses)
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
    }

    static func send(_ message: DHCPMessage, to address: SocketAddress, from client: Client) async throws {
        try await client.channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: message.encoded()))
    }

    static func receive(_ iterator: inout NIOAsyncChannelInboundStream<AddressedEnvelope<ByteBuffer>>.AsyncIterator)
        async throws -> (DHCPMessage, SocketAddress)
    {
        let envelope = try #require(try await iterator.next())
        return (try DHCPMessage(parsing: envelope.data), envelope.remoteAddress)
    }

    @Test("full mode: DISCOVER gets the static address, REQUEST is ACKed and stored")
    func fullMode() async throws {
        let client = try await Self.clientChannel()
        let clientPort = try #require(client.channel.localAddress?.port)
        let store = InMemoryLeaseStore()
        let events = EventLog()
        let settings = DHCPResponderConfiguration.AddressSettings(subnetMask: IPv4Address(255, 0, 0, 0), leaseTime: 300)
        let server = DHCPServer(
            configuration: DHCPServerConfiguration(
                responder: DHCPResponderConfiguration(
                    serverAddress: Self.serverAddress, mode: .full(settings),
                    fleet: [Self.mac: FleetMachine(address: IPv4Address(127, 0, 0, 50), hostName: "node1")]),
                dhcpListener: .bind(host: "127.0.0.1", port: 0), clientPort: clientPort,
                broadcastAddress: IPv4Address(127, 0, 0, 1)),
            policy: StaticBootPolicy(tftpServer: Self.serverAddress), leaseStore: store,
            onEvent: { events.append($0) })

        try await Self.withRunningServer(server) { addresses in
            #expect(addresses.count == 1, "no port 4011 in full mode")
            let serverSocket = try #require(addresses.first)
            try await client.executeThenClose { inbound, _ in
                var replies = inbound.makeAsyncIterator()
                try await Self.send(Self.request(.discover, xid: 0x1234), to: serverSocket, from: client)
                let (offer, _) = try await Self.receive(&replies)
                #expect(offer.messageType == .offer)
                #expect(offer.xid == 0x1234)
                #expect(offer.yiaddr == IPv4Address(127, 0, 0, 50))
                #expect(offer.hostName == "node1")

                try await Self.send(
                    Self.request(
                        .request, xid: 0x1235,
                        options: [
                            .requestedIPAddress(offer.yiaddr), .serverIdentifier(Self.serverAddress),
                        ]), to: serverSocket, from: client)
                let (ack, _) = try await Self.receive(&replies)
                #expect(ack.messageType == .ack)
                #expect(ack.yiaddr == IPv4Address(127, 0, 0, 50))
            }
        }
        #expect(await store.loadLeases().map(\.address) == [IPv4Address(127, 0, 0, 50)])
        #expect(events.all.map(\.outcome) == [.replied(.offer), .replied(.ack)])
    }

    @Test("proxy mode: OFFER on the DHCP port, ACK from port 4011 back to the sender")
    func proxyMode() async throws {
        let client = try await Self.clientChannel()
        let clientPort = try #require(client.channel.localAddress?.port)
        let server = DHCPServer(
            configuration: DHCPServerConfiguration(
                responder: DHCPResponderConfiguration(
                    serverAddress: Self.serverAddress, mode: .proxy, unknownMachines: .discovery),
                dhcpListener: .bind(host: "127.0.0.1", port: 0), pxeListener: .bind(host: "127.0.0.1", port: 0),
                clientPort: clientPort, broadcastAddress: IPv4Address(127, 0, 0, 1), interface: "lo"),
            policy: StaticBootPolicy(tftpServer: Self.serverAddress))
        let pxe: [DHCPOption] = [
            .clientSystemArchitecture([.efiBC]), .vendorClassIdentifier("PXEClient:Arch:00007:UNDI:003016"),
        ]

        try await Self.withRunningServer(server) { addresses in
            #expect(addresses.count == 2)
            try await client.executeThenClose { inbound, _ in
                var replies = inbound.makeAsyncIterator()
                try await Self.send(Self.request(.discover, xid: 1, options: pxe), to: addresses[0], from: client)
                let (offer, _) = try await Self.receive(&replies)
                #expect(offer.messageType == .offer)
                #expect(offer.yiaddr == .any)
                #expect(offer.bootFileName == "ipxe.efi")
                #expect(offer.vendorClass == "PXEClient")

                try await Self.send(Self.request(.request, xid: 2, options: pxe), to: addresses[1], from: client)
                let (ack, from) = try await Self.receive(&replies)
                #expect(ack.messageType == .ack)
                #expect(ack.xid == 2)
                #expect(from.port == addresses[1].port, "the ACK comes from port 4011's socket")
            }
        }
    }

    @Test("an interface name longer than IFNAMSIZ stops run() with an error naming it")
    func badInterface() async throws {
        let server = DHCPServer(
            configuration: DHCPServerConfiguration(
                responder: DHCPResponderConfiguration(serverAddress: Self.serverAddress, mode: .proxy),
                dhcpListener: .bind(host: "127.0.0.1", port: 0), pxeListener: .bind(host: "127.0.0.1", port: 0),
                interface: "a-very-long-interface-name"),
            policy: StaticBootPolicy(tftpServer: Self.serverAddress))
        await #expect {
            try await server.run()
        } throws: { error in
            (error as? DHCPServerError)?.code == .badInterfaceName
                && "\(error)".contains("a-very-long-interface-name")
        }
        await #expect(throws: DHCPServerError.self) { try await server.listeningAddresses() }
    }
}

/// Collects events from the server's callback.
final class EventLog: Sendable {
    private let events = Mutex<[DHCPEvent]>([])
    func append(_ event: DHCPEvent) { events.withLock { $0.append(event) } }
    var all: [DHCPEvent] { events.withLock { $0 } }
}
