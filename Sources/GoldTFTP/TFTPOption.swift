/// One name/value option of a request or OACK (RFC 2347 §2).
///
/// `name` keeps the client's spelling; compare with ``key``, which is lowercased (option names are
/// case-insensitive).
public struct TFTPOption: Hashable, Sendable {
    /// The option name as sent.
    public var name: String
    /// The option value as sent (a decimal string for every option this server knows).
    public var value: String

    /// Creates an option.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// The lowercased name used for matching.
    public var key: String { asciiLowercased(self.name) }
}

/// Lowercases ASCII letters only: TFTP strings are ASCII and Foundation is not imported here.
func asciiLowercased(_ string: String) -> String {
    var utf8 = Array(string.utf8)
    for index in utf8.indices where utf8[index] >= 0x41 && utf8[index] <= 0x5A {
        utf8[index] += 0x20
    }
    return String(decoding: utf8, as: UTF8.self)
}
