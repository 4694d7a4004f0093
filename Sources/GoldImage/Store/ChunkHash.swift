import Crypto
import Foundation
import GoldCore

/// The SHA-256 of a chunk's bytes, as 64 lowercase hex digits: its name in the chunk store.
public struct ChunkHash: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public let hex: String

    /// Accepts exactly 64 lowercase hex digits; nil otherwise (so a request path cannot escape the store).
    public init?(_ hex: String) {
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            return nil
        }
        self.hex = hex
    }

    /// The hash of `bytes`.
    public init(of bytes: some DataProtocol) {
        self.hex = SHA256.hash(data: bytes).hexString
    }

    init(digest: SHA256.Digest) { self.hex = digest.hexString }

    public var description: String { hex }
    public static func < (lhs: ChunkHash, rhs: ChunkHash) -> Bool { lhs.hex < rhs.hex }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let hash = ChunkHash(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a SHA-256: \(text)"))
        }
        self = hash
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

extension Digest {
    /// Lowercase hex.
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(Self.byteCount * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
