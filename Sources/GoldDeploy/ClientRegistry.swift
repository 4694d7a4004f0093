import GoldCore

/// Which MAC was last seen at which IP address (from DHCP and from iPXE's script requests), so a TFTP or HTTP
/// fetch, which carries only an address, can be put down to a machine.
public actor ClientRegistry {
    private var macs: [String: MACAddress] = [:]

    public init() {}

    public func record(address: String, mac: MACAddress) { macs[address] = mac }
    public func mac(for address: String) -> MACAddress? { macs[address] }
}
