/// An Ethernet MAC address, stored as six bytes and written as `52:54:00:12:34:56`.
public struct MACAddress: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 6 else { return nil }
        self.bytes = bytes
    }

    /// Accepts `aa:bb:cc:dd:ee:ff`, `aa-bb-cc-dd-ee-ff` (iPXE's `${mac:hexhyp}`) and `aabbccddeeff`, any case.
    public init?(_ text: String) {
        let characters = Array(text)
        let hex: String
        if characters.count == 17 {
            // Separators at every third place, all the same one.
            let separator = characters[2]
            guard separator == ":" || separator == "-",
                stride(from: 2, to: 17, by: 3).allSatisfy({ characters[$0] == separator })
            else { return nil }
            hex = String(characters.enumerated().filter { $0.offset % 3 != 2 }.map(\.element))
        } else {
            hex = text
        }
        guard hex.count == 12 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        for _ in 0..<6 {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.bytes = bytes
    }

    public var description: String { bytes.map { hex2($0) }.joined(separator: ":") }
    /// `aa-bb-cc-dd-ee-ff`, as pxelinux and GRUB name per-machine files.
    public var hyphenated: String { bytes.map { hex2($0) }.joined(separator: "-") }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let mac = MACAddress(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a MAC address: \(text)"))
        }
        self = mac
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

func hex2(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xf)]])
}
