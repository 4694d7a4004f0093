/// A size in bytes, written in fleet files as `512MiB`, `8GiB`, `2G`, `4096` (bytes).
public struct ByteSize: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public var bytes: UInt64

    public init(bytes: UInt64) { self.bytes = bytes }

    private static let units: [(String, UInt64)] = [
        ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10),
        ("TB", 1_000_000_000_000), ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1000),
        ("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10), ("B", 1),
    ]

    /// The largest size Gold takes from outside (64 PiB): sums of a disk's partitions stay far from overflow.
    public static let maximum = ByteSize(bytes: 1 << 56)

    /// Parses `512MiB`, `1.5GiB`, `8G` (binary), `4096`; nil for anything else, or anything over ``maximum``.
    public init?(_ text: String) {
        let trimmed = text.trimmingWhitespace()
        for (suffix, factor) in Self.units where trimmed.hasSuffix(suffix) {
            let number = String(trimmed.dropLast(suffix.count)).trimmingWhitespace()
            guard let value = Double(number), value >= 0, value.isFinite else { return nil }
            let bytes = value * Double(factor)
            guard bytes <= Double(Self.maximum.bytes) else { return nil }
            self.bytes = UInt64(bytes)
            return
        }
        guard let value = UInt64(trimmed), value <= Self.maximum.bytes else { return nil }
        self.bytes = value
    }

    public static func < (lhs: ByteSize, rhs: ByteSize) -> Bool { lhs.bytes < rhs.bytes }

    public var description: String {
        for (suffix, factor) in [("TiB", UInt64(1) << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes >= factor && bytes % factor == 0 {
            return "\(bytes / factor)\(suffix)"
        }
        return "\(bytes)"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(UInt64.self) {
            guard number <= Self.maximum.bytes else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "\(number) bytes is over the 64PiB limit"))
            }
            self.bytes = number
            return
        }
        let text = try container.decode(String.self)
        guard let size = ByteSize(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a size: \(text)"))
        }
        self = size
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
