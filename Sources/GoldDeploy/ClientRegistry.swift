import GoldCore

/// Which MAC was last seen at which IP address (from DHCP and from iPXE's script requests), so a TFTP or HTTP
/// fetch, which carries only an address, can be put down to a machine. Bounded: past `capacity` addresses the
/// oldest half is forgotten (packets from anyone fill it).
public actor ClientRegistry {
    private var macs: [String: (mac: MACAddress, seen: UInt64)] = [:]
    private var clock: UInt64 = 0
    public let capacity: Int

    public init(capacity: Int = 8192) { self.capacity = capacity }

    public func record(address: String, mac: MACAddress) {
        clock += 1
        macs[address] = (mac, clock)
        if macs.count > capacity {
            let cutoff = macs.values.map(\.seen).sorted()[macs.count / 2]
            macs = macs.filter { $0.value.seen >= cutoff }
        }
    }

    public func mac(for address: String) -> MACAddress? { macs[address]?.mac }

    public var count: Int { macs.count }
}
