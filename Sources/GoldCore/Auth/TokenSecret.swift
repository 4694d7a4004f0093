import Crypto

/// A bearer token's secret: `gold_` and 43 base64url characters (32 random bytes); stored only as its SHA-256.
public struct TokenSecret: Hashable, Sendable {
    public let value: String

    public init(value: String) { self.value = value }

    /// A new secret from the system's random number generator.
    public static func generate() -> TokenSecret {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return TokenSecret(value: "gold_" + base64url(bytes))
    }

    /// A secret derived from the director's key and a purpose: the same inputs give the same secret, so an image
    /// rebuilt for the same machine carries the same agent token (and differs from the last only where it changed).
    public static func derived(key: [UInt8], purpose: String) -> TokenSecret {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(purpose.utf8), using: SymmetricKey(data: key))
        return TokenSecret(value: "gold_" + base64url(Array(mac)))
    }

    /// The hex SHA-256 that the store keeps.
    public var hash: String { Self.hash(value) }

    public static func hash(_ value: String) -> String {
        SHA256.hash(data: Array(value.utf8)).map { hex2($0) }.joined()
    }

    /// A short public id for listing and revoking: never enough to authenticate.
    public static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return "tok-" + (0..<6).map { _ in hex2(UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var out = ""
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value = 0
            for (i, byte) in chunk.enumerated() { value |= Int(byte) << (16 - 8 * i) }
            let characters = chunk.count + 1
            for i in 0..<characters { out.append(alphabet[(value >> (18 - 6 * i)) & 63]) }
            index += 3
        }
        return out
    }
}
