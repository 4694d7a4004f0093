/// What this server accepts when negotiating options (RFC 2347).
public struct TFTPOptionPolicy: Hashable, Sendable {
    /// Largest block size granted; larger requests are answered with this (RFC 2348 §2 lets the server lower
    /// it). 1468 keeps a DATA packet inside a 1500-byte Ethernet MTU over IPv4.
    public var maxBlockSize: Int
    /// Largest window granted (RFC 7440 §3 lets the server lower it); 1 disables windowing.
    public var maxWindowSize: Int
    /// Whether the `timeout` option (RFC 2349 §3) is honoured.
    public var acceptsTimeout: Bool
    /// Whether the `tsize` option (RFC 2349 §4) is answered when the size is known.
    public var answersTransferSize: Bool

    /// Creates a policy; `maxBlockSize` is kept within 8...65464 and `maxWindowSize` within 1...65535.
    public init(
        maxBlockSize: Int = 1468, maxWindowSize: Int = 64, acceptsTimeout: Bool = true, answersTransferSize: Bool = true
    ) {
        self.maxBlockSize = min(
            max(maxBlockSize, TFTPNegotiatedOptions.blockSizeRange.lowerBound),
            TFTPNegotiatedOptions.blockSizeRange.upperBound)
        self.maxWindowSize = min(max(maxWindowSize, 1), TFTPNegotiatedOptions.windowSizeRange.upperBound)
        self.acceptsTimeout = acceptsTimeout
        self.answersTransferSize = answersTransferSize
    }
}
