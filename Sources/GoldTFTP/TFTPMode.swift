/// The transfer mode of a request (RFC 1350 §1: "netascii", "octet", "mail"; case-insensitive).
public enum TFTPMode: String, Hashable, Sendable {
    /// 8-bit ASCII with CR LF line ends (RFC 1350 appendix, RFC 764).
    case netascii
    /// Raw 8-bit bytes.
    case octet
    /// Obsolete mail mode; parsed so the server can refuse it by name.
    case mail
}
