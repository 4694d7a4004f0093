/// The PXE options encapsulated in option 43 of a reply to a `PXEClient` (PXE 2.1 §2.4.5).
public struct PXEVendorOptions: Hashable, Sendable {
    /// PXE_DISCOVERY_CONTROL (sub-option 6) bits.
    public var discoveryControl: UInt8?

    /// Bit 3 of PXE_DISCOVERY_CONTROL: "if a boot file name is present in the offer, download it; no
    /// boot server discovery, no menu". Bits 0 and 1 also turn off broadcast and multicast discovery.
    public static let bootFileDirectly: UInt8 = 0b1000

    /// Options with the discovery control byte given.
    public init(discoveryControl: UInt8? = PXEVendorOptions.bootFileDirectly) {
        self.discoveryControl = discoveryControl
    }

    /// The option 43 payload: sub-options, then PXE_END (255).
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        if let discoveryControl { bytes += [6, 1, discoveryControl] }
        return bytes + [255]
    }

    /// Reads sub-option 6 from an option 43 payload; nil when the payload is not well formed.
    public init?(parsing data: [UInt8]) {
        var index = 0
        var control: UInt8?
        while index < data.count {
            let code = data[index]
            if code == 255 { break }
            if code == 0 {
                index += 1
                continue
            }
            guard index + 1 < data.count else { return nil }
            let length = Int(data[index + 1])
            guard index + 2 + length <= data.count else { return nil }
            if code == 6, length == 1 { control = data[index + 2] }
            index += 2 + length
        }
        self.discoveryControl = control
    }
}
