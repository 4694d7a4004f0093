/// The result of option negotiation for one read transfer.
public struct TFTPNegotiatedOptions: Hashable, Sendable {
    /// RFC 2348 §2: blksize, 8..65464 octets.
    public static let blockSizeRange = 8...65464
    /// RFC 2349 §3: timeout, 1..255 seconds.
    public static let timeoutRange = 1...255
    /// RFC 7440 §3: windowsize, 1..65535 blocks.
    public static let windowSizeRange = 1...65535

    /// Bytes per DATA block (RFC 1350 default 512).
    public var blockSize: Int = 512
    /// Blocks sent before waiting for an ACK (RFC 7440; 1 is lock-step RFC 1350).
    public var windowSize: Int = 1
    /// Retransmission timeout in seconds the client asked for, or nil for the server's default.
    public var timeoutSeconds: Int?
    /// The transfer size answered to the client (RFC 2349 §4), if any.
    public var transferSize: Int?
    /// The options to put in the OACK, in the client's order with lowercased names; empty means no OACK
    /// (RFC 2347 §2: the OACK carries only options the client sent and the server accepts).
    public var acknowledged: [TFTPOption] = []

    /// Creates lock-step defaults (no options).
    public init() {}

    /// Negotiates `request`'s options under `policy`.
    ///
    /// `fileSize` is the size to answer `tsize` with; pass nil when it is not known (netascii changes the size).
    /// Unknown options and values out of range are left out of the OACK (the client then uses the default);
    /// an option sent twice is refused with error 8 because the client's intent is ambiguous.
    public static func negotiate(
        _ request: TFTPRequest,
        policy: TFTPOptionPolicy,
        fileSize: Int?
    ) throws(TFTPError) -> TFTPNegotiatedOptions {
        var result = TFTPNegotiatedOptions()
        var seen: Set<String> = []
        for option in request.options {
            let key = option.key
            guard seen.insert(key).inserted else {
                throw TFTPError(
                    .optionRefused, wireCode: .optionNegotiationRefused, "option '\(option.name)' is sent twice")
            }
            let value = Int(decimal: option.value)
            switch key {
            case "blksize":
                // RFC 2348 §2: values below 8 are invalid; above the maximum, answer the maximum.
                guard let value, value >= blockSizeRange.lowerBound else { continue }
                result.blockSize = min(value, policy.maxBlockSize)
                result.acknowledged.append(TFTPOption(key, String(result.blockSize)))
            case "timeout":
                // RFC 2349 §3: the server must answer the same value or not at all.
                guard policy.acceptsTimeout, let value, timeoutRange.contains(value) else { continue }
                result.timeoutSeconds = value
                result.acknowledged.append(TFTPOption(key, String(value)))
            case "tsize":
                // RFC 2349 §4: in a RRQ the client sends 0 and the server answers the size.
                guard policy.answersTransferSize, value != nil, let fileSize else { continue }
                result.transferSize = fileSize
                result.acknowledged.append(TFTPOption(key, String(fileSize)))
            case "windowsize":
                // RFC 7440 §3: the server may answer a smaller window.
                guard let value, windowSizeRange.contains(value) else { continue }
                result.windowSize = min(value, policy.maxWindowSize)
                result.acknowledged.append(TFTPOption(key, String(result.windowSize)))
            default:
                continue
            }
        }
        return result
    }
}

extension Int {
    /// Parses ASCII decimal digits only (no sign, no spaces), as TFTP option values are; nil on overflow.
    init?(decimal string: String) {
        guard !string.isEmpty, string.utf8.count <= 18, string.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        self.init(string)
    }
}
