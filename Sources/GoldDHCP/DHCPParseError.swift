/// A DHCP message that could not be read: names the field and what was wrong with it.
public struct DHCPParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem; new kinds break no caller's `switch`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: Hashable, Sendable {
            case truncated, badMagicCookie, badHardwareLength, optionOverrun
        }
        fileprivate let base: Base

        /// The datagram ended inside a fixed header field.
        public static let truncated = Code(base: .truncated)
        /// The four bytes after the BOOTP header are not 99.130.83.99 (RFC 2131 §3).
        public static let badMagicCookie = Code(base: .badMagicCookie)
        /// hlen is larger than the 16-byte chaddr field (RFC 2131 §2).
        public static let badHardwareLength = Code(base: .badHardwareLength)
        /// An option's length runs past the end of its field (RFC 2132 §2).
        public static let optionOverrun = Code(base: .optionOverrun)

        public var description: String {
            switch base {
            case .truncated: "truncated"
            case .badMagicCookie: "bad magic cookie"
            case .badHardwareLength: "bad hardware length"
            case .optionOverrun: "option overrun"
            }
        }
    }

    /// The kind of problem.
    public var code: Code
    /// The header field or option the problem was found in, e.g. `chaddr` or `option 61`.
    public var field: String
    /// A sentence for a log line.
    public var message: String

    /// An error about `field`.
    public init(code: Code, field: String, message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String { "DHCP \(field): \(message)" }
}
