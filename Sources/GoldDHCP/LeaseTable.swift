#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Which machine holds which address, and until when: a value the responder mutates with an injected `now`.
///
/// Lookups treat a lease past its `expires` as gone; `expire(now:)` removes such leases and reports the
/// removals of bound ones so the store forgets them too.
public struct LeaseTable: Hashable, Sendable {
    /// Current leases, one per machine.
    public private(set) var leases: [MACAddress: Lease] = [:]
    /// Addresses a client declined (RFC 2131 §4.3.3: in use by someone else), unusable until the date.
    public private(set) var declined: [IPv4Address: Date] = [:]
    private var owners: [IPv4Address: MACAddress] = [:]

    /// A table holding `leases`, e.g. read from a `LeaseStore` at start; a later lease for a MAC or
    /// address replaces an earlier one.
    public init(leases: [Lease] = []) {
        for lease in leases { insert(lease) }
    }

    /// The machine's lease if it has not expired.
    public func lease(for mac: MACAddress, now: Date) -> Lease? {
        guard let lease = leases[mac], lease.expires > now else { return nil }
        return lease
    }

    /// The machine holding `address` now, if any.
    public func holder(of address: IPv4Address, now: Date) -> MACAddress? {
        guard let mac = owners[address], lease(for: mac, now: now) != nil else { return nil }
        return mac
    }

    /// True when `mac` may have `address`: nobody else holds it and it is not quarantined after a decline.
    public func isAvailable(_ address: IPv4Address, for mac: MACAddress, now: Date) -> Bool {
        if let until = declined[address], until > now { return false }
        let holder = holder(of: address, now: now)
        return holder == nil || holder == mac
    }

    /// The lowest address of `pool` that is available to `mac` and not in `excluded`; nil when the pool is full.
    public func freeAddress(
        in pool: ClosedRange<IPv4Address>, for mac: MACAddress, excluding excluded: Set<IPv4Address>, now: Date
    ) -> IPv4Address? {
        var value = pool.lowerBound.value
        while true {
            let address = IPv4Address(value: value)
            if !excluded.contains(address), isAvailable(address, for: mac, now: now) { return address }
            if value == pool.upperBound.value { return nil }
            value += 1
        }
    }

    /// Holds `address` for `mac` until `until` after a DHCPOFFER (RFC 2131 §4.3.1). A bound lease on the same
    /// address stays bound.
    public mutating func offer(_ address: IPv4Address, to mac: MACAddress, until: Date, hostName: String?, now: Date)
        -> [LeaseChange]
    {
        if let current = lease(for: mac, now: now), current.address == address, current.state == .bound {
            return []
        }
        var changes: [LeaseChange] = []
        if leases[mac]?.state == .bound { changes.append(.remove(mac)) }
        insert(Lease(mac: mac, address: address, state: .offered, expires: until, hostName: hostName))
        return changes
    }

    /// Binds `address` to `mac` until `until` after a DHCPACK (RFC 2131 §4.3.2).
    public mutating func bind(_ address: IPv4Address, to mac: MACAddress, until: Date, hostName: String?)
        -> [LeaseChange]
    {
        let lease = Lease(mac: mac, address: address, state: .bound, expires: until, hostName: hostName)
        insert(lease)
        return [.save(lease)]
    }

    /// Ends the machine's lease (DHCPRELEASE, RFC 2131 §4.3.4, or a client choosing another server);
    /// when `address` is given, only if the lease is on that address.
    public mutating func release(_ mac: MACAddress, address: IPv4Address? = nil) -> [LeaseChange] {
        guard let lease = leases[mac], address == nil || lease.address == address else { return [] }
        remove(mac)
        return lease.state == .bound ? [.remove(mac)] : []
    }

    /// Records that `address` is in use by someone else (DHCPDECLINE, RFC 2131 §4.3.3): the machine loses
    /// its lease on it and nobody gets it until `until`.
    /// Only the address this machine holds can be declined: a spoofed DECLINE naming any other address (once any
    /// address at all, growing the table without bound) changes nothing.
    public mutating func decline(_ address: IPv4Address, by mac: MACAddress, until: Date) -> [LeaseChange] {
        guard leases[mac]?.address == address else { return [] }
        declined[address] = until
        return release(mac, address: address)
    }

    /// Drops leases and quarantines that ended at or before `now`; reports removed bound leases.
    public mutating func expire(now: Date) -> [LeaseChange] {
        declined = declined.filter { $0.value > now }
        let ended = leases.values.filter { $0.expires <= now }.sorted { $0.mac < $1.mac }
        for lease in ended { remove(lease.mac) }
        return ended.filter { $0.state == .bound }.map { .remove($0.mac) }
    }

    private mutating func insert(_ lease: Lease) {
        if let previous = leases[lease.mac], owners[previous.address] == lease.mac {
            owners[previous.address] = nil
        }
        if let other = owners[lease.address], other != lease.mac {
            leases[other] = nil
        }
        leases[lease.mac] = lease
        owners[lease.address] = lease.mac
    }

    private mutating func remove(_ mac: MACAddress) {
        guard let lease = leases.removeValue(forKey: mac) else { return }
        if owners[lease.address] == mac { owners[lease.address] = nil }
    }
}
