/// A single byte range from an HTTP `Range` header (RFC 9110 §14.1.2), resolved against a length.
public enum ByteRange: Hashable, Sendable {
    /// No usable Range header: send everything (RFC 9110 §14.2 lets a server ignore what it does not support).
    case whole
    /// Inclusive bounds.
    case partial(lower: UInt64, upper: UInt64)
    /// RFC 9110 §15.5.17: 416 with `Content-Range: bytes */LENGTH`.
    case unsatisfiable

    /// Parses `bytes=FIRST-LAST`, `bytes=FIRST-` and `bytes=-SUFFIX`; several ranges or other units give `.whole`.
    public static func parse(_ header: String?, length: UInt64) -> ByteRange {
        guard let header else { return .whole }
        let trimmed = header.trimmingWhitespace()
        guard trimmed.lowercased().hasPrefix("bytes=") else { return .whole }
        let spec = trimmed.dropFirst(6).trimmingWhitespace()
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = String(spec[..<dash]).trimmingWhitespace()
        let last = String(spec[spec.index(after: dash)...]).trimmingWhitespace()
        if first.isEmpty {
            // RFC 9110 §14.1.2: suffix-range, the last N bytes.
            guard let suffix = UInt64(last) else { return .whole }
            guard suffix > 0, length > 0 else { return .unsatisfiable }
            return .partial(lower: length - min(suffix, length), upper: length - 1)
        }
        guard let lower = UInt64(first) else { return .whole }
        guard lower < length else { return .unsatisfiable }
        if last.isEmpty { return .partial(lower: lower, upper: length - 1) }
        guard let upper = UInt64(last), upper >= lower else { return .whole }
        return .partial(lower: lower, upper: min(upper, length - 1))
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
