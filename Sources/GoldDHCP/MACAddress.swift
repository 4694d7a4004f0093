/// A 48-bit Ethernet hardware address, the key by which Gold knows a machine (RFC 2131 §2: chaddr).
public struct MACAddress: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    /// The six octets, packed into the low 48 bits.
    public let value: UInt64

    /// An address from exactly six octets; nil for any other count.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 6 else { return nil }
        self.value = bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Parses `52:54:00:12:34:56` or `52-54-00-12-34-56` (either case); nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(omittingEmptySubsequences: false) { $0 == ":" || $0 == "-" }
        guard parts.count == 6 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard part.count == 2, part.allSatisfy(\.isHexDigit), let octet = UInt8(part, radix: 16) else {
                return nil
            }
            octets.append(octet)
        }
        self.init(bytes: octets)
    }

    /// The six octets in wire order.
    public var bytes: [UInt8] {
        (0..<6).reversed().map { UInt8(truncatingIfNeeded: value >> (UInt64($0) * 8)) }
    }

    /// Lower-case, colon separated: `52:54:00:12:34:56`.
    public var description: String { formatted(separator: ":") }

    /// Lower-case, hyphen separated, as iPXE's `${mac:hexhyp}` prints it: `52-54-00-12-34-56`.
    public var hyphenated: String { formatted(separator: "-") }

    private func formatted(separator: String) -> String {
        bytes.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined(separator: separator)
    }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.value < rhs.value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let address = MACAddress(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not a MAC address like 52:54:00:12:34:56")
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
