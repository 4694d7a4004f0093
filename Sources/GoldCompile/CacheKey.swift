import Crypto
import Foundation

/// SHA-256 over every input of a build, in a fixed order: equal inputs give equal keys on any compile server.
public struct CacheKey: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    /// 64 lowercase hex digits.
    public let hex: String

    public init(hex: String) { self.hex = hex }

    public init(_ inputs: CompileInputs) {
        var digest = SHA256()
        for (name, value) in Self.fields(inputs) {
            // Length-prefixed so no two field lists serialize to the same bytes.
            let line = "\(name)=\(value.utf8.count):\(value)\n"
            digest.update(data: Data(line.utf8))
        }
        hex = digest.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The named values the key covers, in hashing order; also what a person reads to see why two keys differ.
    public static func fields(_ inputs: CompileInputs) -> [(String, String)] {
        switch inputs {
        case .kernel(let k):
            var fields: [(String, String)] = [
                ("schema", "gold-compile-key-1"), ("kind", "kernel"), ("source", k.source.identity),
                ("base", k.baseIdentity),
            ]
            fields += k.fragments.map { ("fragment", $0) }
            fields += [("localversion", k.localVersion ?? ""), ("toolchain", k.toolchain)]
            return fields
        case .binary(let b):
            var fields: [(String, String)] = [
                ("schema", "gold-compile-key-1"), ("kind", "binary"), ("name", b.name), ("source", b.source.identity),
            ]
            fields += b.commands.map { ("command", $0) }
            fields += [
                ("cc", b.cc), ("cflags", b.cflags), ("march", b.march), ("prefix", b.prefix),
                ("toolchain", b.toolchain),
            ]
            return fields
        }
    }

    public var short: String { String(hex.prefix(12)) }
    public var description: String { hex }
    public static func < (a: CacheKey, b: CacheKey) -> Bool { a.hex < b.hex }

    public init(from decoder: any Decoder) throws {
        hex = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
