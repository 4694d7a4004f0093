import Crypto

/// A short-lived token for one machine's netboot environment, carried on its kernel command line.
///
/// `gold_enr.MACHINE.EXPIRY.GENERATION.MAC` where MAC is an HMAC-SHA256 over the rest under the director's key:
/// nothing is stored, it works only for that machine until it expires, and bumping the machine's generation (done when
/// the environment checks in) makes every earlier token useless.
public struct EnrolmentToken: Hashable, Sendable {
    public var machine: String
    /// Seconds since 1970.
    public var expires: Int64
    public var generation: Int64

    public init(machine: String, expires: Int64, generation: Int64) {
        self.machine = machine
        self.expires = expires
        self.generation = generation
    }

    public func sign(key: [UInt8]) -> String {
        let body = "gold_enr.\(machine).\(expires).\(generation)"
        let mac = HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: key))
        return body + "." + mac.map { hex2($0) }.joined()
    }

    /// The token's claims when its signature is right; its expiry and generation are the caller's to check.
    public static func verify(_ text: String, key: [UInt8]) -> EnrolmentToken? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "gold_enr", let expires = Int64(parts[2]), let generation = Int64(parts[3])
        else { return nil }
        let token = EnrolmentToken(machine: String(parts[1]), expires: expires, generation: generation)
        let expected = Array(token.sign(key: key).utf8)
        let given = Array(text.utf8)
        guard expected.count == given.count else { return nil }
        // Constant time: every byte is compared whatever differs first.
        var difference: UInt8 = 0
        for (a, b) in zip(expected, given) { difference |= a ^ b }
        return difference == 0 ? token : nil
    }

    public static func isEnrolment(_ text: String) -> Bool { text.hasPrefix("gold_enr.") }
}
