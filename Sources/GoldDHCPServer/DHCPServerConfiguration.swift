import GoldDHCP
import NIOCore

/// Where and how the DHCP server listens, and how it addresses replies.
public struct DHCPServerConfiguration: Sendable {
    /// One UDP socket the server reads requests from.
    public enum Listener: Sendable {
        /// Bind a new socket to `host`:`port` (port 0 picks a free one, for tests).
        case bind(host: String, port: Int)
        /// Use an already-bound UDP socket, e.g. from systemd socket activation or made inside another
        /// network namespace; the server takes ownership and closes it.
        case socket(NIOBSDSocket.Handle)
    }

    /// The responder's mode, fleet and addressing.
    public var responder: DHCPResponderConfiguration
    /// The DHCP server port, normally `0.0.0.0:67` (RFC 2131 §4.1).
    public var dhcpListener: Listener
    /// The PXE port 4011 for ProxyDHCPREQUESTs (PXE 2.1 §2.2.4); nil does not listen there.
    public var pxeListener: Listener?
    /// The port clients listen on, normally 68; replies to `.clientBroadcast` and `.client` go there.
    public var clientPort: Int
    /// The port relay agents listen on, normally 67.
    public var relayPort: Int
    /// Where `.clientBroadcast` replies go: 255.255.255.255, or a loopback address in tests.
    public var broadcastAddress: IPv4Address
    /// Only serve requests that arrive on this interface (SO_BINDTODEVICE), e.g. the provisioning bridge.
    public var interface: String?
    /// How often ended leases are removed from the store when no request triggers it; nil never.
    public var expirySweepInterval: Duration?

    /// Standard ports: 67 and 68, plus 4011 in proxy mode.
    public init(
        responder: DHCPResponderConfiguration, dhcpListener: Listener = .bind(host: "0.0.0.0", port: 67),
        pxeListener: Listener? = nil, clientPort: Int = 68, relayPort: Int = 67,
        broadcastAddress: IPv4Address = .broadcast, interface: String? = nil,
        expirySweepInterval: Duration? = .seconds(60)
    ) {
        self.responder = responder
        self.dhcpListener = dhcpListener
        if let pxeListener {
            self.pxeListener = pxeListener
        } else if case .proxy = responder.mode {
            self.pxeListener = .bind(host: "0.0.0.0", port: 4011)
        } else {
            self.pxeListener = nil
        }
        self.clientPort = clientPort
        self.relayPort = relayPort
        self.broadcastAddress = broadcastAddress
        self.interface = interface
        self.expirySweepInterval = expirySweepInterval
    }
}

/// A DHCP server that could not start: names the socket or interface.
public struct DHCPServerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem; new kinds break no caller's `switch`.
    public struct Code: Hashable, Sendable {
        fileprivate enum Base: Hashable, Sendable { case badInterfaceName, badSocket }
        fileprivate let base: Base
        /// The interface name is empty or longer than IFNAMSIZ - 1 (15) bytes.
        public static let badInterfaceName = Code(base: .badInterfaceName)
        /// A `.socket` listener's descriptor is not an open socket.
        public static let badSocket = Code(base: .badSocket)
    }

    /// The kind of problem.
    public var code: Code
    /// A sentence for a log line, naming what to fix.
    public var message: String

    public var description: String { message }
}
