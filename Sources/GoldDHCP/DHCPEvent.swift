/// One request and what the responder did with it, for the director's log.
public struct DHCPEvent: Hashable, Sendable, CustomStringConvertible {
    /// Replied with a message of some type, or stayed silent.
    public enum Outcome: Hashable, Sendable {
        /// A reply of this type was produced.
        case replied(DHCPMessageType)
        /// No reply.
        case ignored
    }

    /// The client, when chaddr holds an Ethernet address.
    public var mac: MACAddress?
    /// The client's message type, nil for BOOTP or a malformed option 53.
    public var requestType: DHCPMessageType?
    /// The client's transaction id.
    public var xid: UInt32
    /// Replied or ignored.
    public var outcome: Outcome
    /// yiaddr of the reply, when an address was given.
    public var offeredAddress: IPv4Address?
    /// The boot file or iPXE script URL handed out.
    public var bootfile: String?
    /// The client's architecture, when it said.
    public var architecture: ClientArchitecture?
    /// True when the client is iPXE.
    public var isIPXE: Bool
    /// Why: a short phrase such as `static address` or `not a PXE client`.
    public var reason: String
    /// The address the client holds or is taking (``DHCPMessage/clientAddress``). Beside another DHCP server this is
    /// how Gold learns the address that server gave — the client's DHCPREQUEST for it is broadcast, and a
    /// ProxyDHCPREQUEST on port 4011 carries it — so the TFTP fetches that follow, which carry only an address, can
    /// be put down to the machine.
    public var clientAddress: IPv4Address?

    /// An event with every field given.
    public init(
        mac: MACAddress?, requestType: DHCPMessageType?, xid: UInt32, outcome: Outcome,
        offeredAddress: IPv4Address? = nil, bootfile: String? = nil, architecture: ClientArchitecture? = nil,
        isIPXE: Bool = false, reason: String, clientAddress: IPv4Address? = nil
    ) {
        self.mac = mac
        self.requestType = requestType
        self.xid = xid
        self.outcome = outcome
        self.offeredAddress = offeredAddress
        self.bootfile = bootfile
        self.architecture = architecture
        self.isIPXE = isIPXE
        self.reason = reason
        self.clientAddress = clientAddress
    }

    public var description: String {
        var text =
            "\(requestType.map(String.init(describing:)) ?? "BOOTP") from \(mac.map(String.init(describing:)) ?? "?")"
        switch outcome {
        case .replied(let type): text += " -> \(type)"
        case .ignored: text += " ignored"
        }
        if let offeredAddress { text += " \(offeredAddress)" }
        if let clientAddress { text += " (client at \(clientAddress))" }
        if let bootfile { text += " boot \(bootfile)" }
        return text + " (\(reason))"
    }
}

/// Where the adapter sends a reply (RFC 2131 §4.1).
public enum DHCPDestination: Hashable, Sendable {
    /// 255.255.255.255 on the client port: the client has no usable address yet or asked for broadcast.
    case clientBroadcast
    /// Unicast to the client's address on the client port.
    case client(IPv4Address)
    /// Unicast to a relay agent (giaddr) on the server port.
    case relay(IPv4Address)
    /// Back to the datagram's source address and port (PXE 2.1: replies on port 4011).
    case sender
}

/// A reply to send.
public struct DHCPReply: Hashable, Sendable {
    /// The message.
    public var message: DHCPMessage
    /// Where it goes.
    public var destination: DHCPDestination

    /// A reply with both fields given.
    public init(message: DHCPMessage, destination: DHCPDestination) {
        self.message = message
        self.destination = destination
    }
}

/// Everything the responder decided about one request: the reply, the log event, the lease writes.
public struct DHCPResponse: Hashable, Sendable {
    /// The reply, nil when the request is ignored.
    public var reply: DHCPReply?
    /// What happened, always present.
    public var event: DHCPEvent
    /// Changes for the `LeaseStore`, in order.
    public var leaseChanges: [LeaseChange]

    /// A response with every field given.
    public init(reply: DHCPReply?, event: DHCPEvent, leaseChanges: [LeaseChange] = []) {
        self.reply = reply
        self.event = event
        self.leaseChanges = leaseChanges
    }
}
