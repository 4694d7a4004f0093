#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One address given to one machine (RFC 2131 §1: "lease").
public struct Lease: Hashable, Sendable, Codable {
    /// Offered and not yet requested, or confirmed with a DHCPACK.
    public enum State: String, Hashable, Sendable, Codable {
        /// Held for the client between DHCPOFFER and DHCPREQUEST.
        case offered
        /// Acknowledged: the client uses the address until `expires`.
        case bound
    }

    /// The client.
    public var mac: MACAddress
    /// The address.
    public var address: IPv4Address
    /// Offered or bound.
    public var state: State
    /// When the lease (or the offer hold) ends.
    public var expires: Date
    /// The host name the client sent or the fleet gave, for the record.
    public var hostName: String?

    /// A lease with every field given.
    public init(mac: MACAddress, address: IPv4Address, state: State, expires: Date, hostName: String? = nil) {
        self.mac = mac
        self.address = address
        self.state = state
        self.expires = expires
        self.hostName = hostName
    }
}

/// A change the lease store must persist, produced by the responder beside its reply.
public enum LeaseChange: Hashable, Sendable {
    /// Insert or replace the bound lease of `lease.mac`.
    case save(Lease)
    /// Forget the lease of this machine (released, declined, expired).
    case remove(MACAddress)
}
