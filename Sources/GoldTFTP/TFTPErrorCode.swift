/// The error code carried in a TFTP ERROR packet (RFC 1350 §5, RFC 2347 §2 for code 8).
///
/// A struct rather than an enum so that a code this server does not know (sent by a client) is still representable.
public struct TFTPErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 16-bit code as sent on the wire.
    public var rawValue: UInt16

    /// Creates a code from its wire value.
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// 0: not defined, see the error message.
    public static let notDefined = TFTPErrorCode(rawValue: 0)
    /// 1: file not found.
    public static let fileNotFound = TFTPErrorCode(rawValue: 1)
    /// 2: access violation.
    public static let accessViolation = TFTPErrorCode(rawValue: 2)
    /// 3: disk full or allocation exceeded.
    public static let diskFull = TFTPErrorCode(rawValue: 3)
    /// 4: illegal TFTP operation.
    public static let illegalOperation = TFTPErrorCode(rawValue: 4)
    /// 5: unknown transfer ID.
    public static let unknownTransferID = TFTPErrorCode(rawValue: 5)
    /// 6: file already exists.
    public static let fileAlreadyExists = TFTPErrorCode(rawValue: 6)
    /// 7: no such user.
    public static let noSuchUser = TFTPErrorCode(rawValue: 7)
    /// 8: option negotiation refused (RFC 2347 §2).
    public static let optionNegotiationRefused = TFTPErrorCode(rawValue: 8)

    public var description: String {
        switch self.rawValue {
        case 0: "0 (not defined)"
        case 1: "1 (file not found)"
        case 2: "2 (access violation)"
        case 3: "3 (disk full)"
        case 4: "4 (illegal operation)"
        case 5: "5 (unknown transfer ID)"
        case 6: "6 (file already exists)"
        case 7: "7 (no such user)"
        case 8: "8 (option negotiation refused)"
        default: "\(self.rawValue) (unknown)"
        }
    }
}
