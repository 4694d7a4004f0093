import GoldDHCP
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

extension DHCPServer {
    /// Opens one listener with SO_REUSEADDR and SO_BROADCAST, bound to the configured interface if any.
    func open(_ listener: DHCPServerConfiguration.Listener)
        async throws -> NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>
    {
        let deviceName = try configuration.interface.map(Self.interfaceName)
        let bootstrap = DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.socketOption(.so_broadcast), value: 1)
        let initializer:
            @Sendable (any Channel) -> EventLoopFuture<
                NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>
            > = { channel in
                let bound: EventLoopFuture<Void>
                if let deviceName, let provider = channel as? any SocketOptionProvider {
                    bound = Self.bindToDevice(provider, deviceName)
                } else {
                    bound = channel.eventLoop.makeSucceededVoidFuture()
                }
                return bound.flatMapThrowing {
                    try NIOAsyncChannel(wrappingChannelSynchronously: channel)
                }
            }
        switch listener {
        case .bind(let host, let port):
            return try await bootstrap.bind(host: host, port: port, channelInitializer: initializer)
        case .socket(let handle):
            // NIO traps on a negative descriptor and expects a non-blocking one.
            guard handle >= 0, fcntl(handle, F_SETFL, fcntl(handle, F_GETFL) | O_NONBLOCK) == 0 else {
                throw DHCPServerError(
                    code: .badSocket, message: "DHCP listener descriptor \(handle) is not an open socket")
            }
            // The async `withBoundSocket` of DatagramBootstrap fails with "operation unsupported" (swift-nio
            // 2.101): use the future-based one and collect the wrapped channel from its initializer.
            let slot = ChannelSlot()
            _ = try await bootstrap.channelInitializer { channel in
                initializer(channel).map { wrapped in slot.channel.withLock { $0 = wrapped } }
            }.withBoundSocket(handle).get()
            guard let wrapped = slot.channel.withLock({ $0 }) else {
                throw DHCPServerError(code: .badSocket, message: "DHCP listener descriptor \(handle) did not open")
            }
            return wrapped
        }
    }

    /// Carries the wrapped channel out of a future-based bootstrap's initializer.
    final class ChannelSlot: Sendable {
        let channel = Mutex<NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>?>(nil)
    }

    /// IFNAMSIZ is 16 on Linux: the name and its NUL terminator.
    typealias InterfaceName = (
        CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar
    )

    static func interfaceName(_ name: String) throws -> InterfaceName {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count < 16, !bytes.contains(0) else {
            throw DHCPServerError(
                code: .badInterfaceName,
                message:
                    "interface name '\(name)' must be 1 to 15 bytes (Linux IFNAMSIZ); check the DHCP interface setting")
        }
        var value: InterfaceName = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &value) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        return value
    }

    /// SO_BINDTODEVICE (socket(7)): receive and send only on one interface, so a server on 0.0.0.0:67
    /// answers the provisioning bridge and nothing else.
    static func bindToDevice(_ provider: any SocketOptionProvider, _ name: InterfaceName) -> EventLoopFuture<Void> {
        #if os(Linux)
            return provider.unsafeSetSocketOption(
                level: NIOBSDSocket.OptionLevel.socket, name: NIOBSDSocket.Option(rawValue: SO_BINDTODEVICE),
                value: name)
        #else
            return provider.eventLoop.makeFailedFuture(
                DHCPServerError(code: .badInterfaceName, message: "binding to an interface needs Linux SO_BINDTODEVICE")
            )
        #endif
    }
}
