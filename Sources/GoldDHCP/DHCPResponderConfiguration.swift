/// A machine of the fleet as the DHCP responder sees it.
public struct FleetMachine: Hashable, Sendable {
    /// Its fixed address on the provisioning network (full DHCP mode); nil takes one from the pool.
    public var address: IPv4Address?
    /// Sent as option 12 in full DHCP mode.
    public var hostName: String?

    /// A machine with an optional static address and host name.
    public init(address: IPv4Address? = nil, hostName: String? = nil) {
        self.address = address
        self.hostName = hostName
    }
}

/// How the responder behaves: proxyDHCP beside someone else's DHCP server, or the network's only DHCP server.
public struct DHCPResponderConfiguration: Hashable, Sendable {
    /// Which role the responder plays on the network.
    public enum Mode: Hashable, Sendable {
        /// proxyDHCP (PXE 2.1 §2.2.4): answer PXE clients with boot information only, never an address.
        case proxy
        /// The DHCP server of an isolated provisioning network, giving addresses too.
        case full(AddressSettings)
    }

    /// What to do with a machine whose MAC is not in `fleet`.
    public enum UnknownMachines: Hashable, Sendable {
        /// Do not answer it at all.
        case ignore
        /// Answer it (pool address in full mode) and let the boot policy boot it, e.g. into discovery.
        case discovery
    }

    /// The addressing of the provisioning network in full DHCP mode.
    public struct AddressSettings: Hashable, Sendable {
        /// Option 1.
        public var subnetMask: IPv4Address
        /// Option 3; nil sends none (an isolated network may have no gateway).
        public var router: IPv4Address?
        /// Option 6; empty sends none.
        public var dnsServers: [IPv4Address]
        /// Option 15.
        public var domainName: String?
        /// Option 51, seconds.
        public var leaseTime: UInt32
        /// How long an offered address is held for the client's DHCPREQUEST, seconds.
        public var offerHoldTime: UInt32
        /// How long a declined address stays unused, seconds.
        public var declineQuarantine: UInt32
        /// Addresses for machines without a static one; nil gives addresses only to fleet machines that have one.
        public var pool: ClosedRange<IPv4Address>?
        /// NAK requests for addresses this server would not give (RFC 2131 §4.3.2 leaves the server silent
        /// when it has no record of the client; an isolated network's only server should say no).
        public var authoritative: Bool

        /// Settings with common defaults: one hour leases, offers held a minute, declines quarantined ten.
        public init(
            subnetMask: IPv4Address, router: IPv4Address? = nil, dnsServers: [IPv4Address] = [],
            domainName: String? = nil, leaseTime: UInt32 = 3600, offerHoldTime: UInt32 = 60,
            declineQuarantine: UInt32 = 600, pool: ClosedRange<IPv4Address>? = nil, authoritative: Bool = true
        ) {
            self.subnetMask = subnetMask
            self.router = router
            self.dnsServers = dnsServers
            self.domainName = domainName
            self.leaseTime = leaseTime
            self.offerHoldTime = offerHoldTime
            self.declineQuarantine = declineQuarantine
            self.pool = pool
            self.authoritative = authoritative
        }
    }

    /// This server's address on the provisioning network: option 54 and the source of replies.
    public var serverAddress: IPv4Address
    /// Proxy or full DHCP.
    public var mode: Mode
    /// The machines Gold knows, by MAC.
    public var fleet: [MACAddress: FleetMachine]
    /// Whether machines outside the fleet are answered.
    public var unknownMachines: UnknownMachines

    /// A configuration with every field given.
    public init(
        serverAddress: IPv4Address, mode: Mode, fleet: [MACAddress: FleetMachine] = [:],
        unknownMachines: UnknownMachines = .ignore
    ) {
        self.serverAddress = serverAddress
        self.mode = mode
        self.fleet = fleet
        self.unknownMachines = unknownMachines
    }
}
