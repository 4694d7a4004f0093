/// The body of a read or write request (RFC 1350 §5 figure 5-1, options per RFC 2347 §2).
public struct TFTPRequest: Hashable, Sendable {
    /// The filename exactly as sent (not yet confined; see ``TFTPPath``).
    public var filename: String
    /// The transfer mode.
    public var mode: TFTPMode
    /// The options in the order the client sent them.
    public var options: [TFTPOption]

    /// Creates a request.
    public init(filename: String, mode: TFTPMode, options: [TFTPOption] = []) {
        self.filename = filename
        self.mode = mode
        self.options = options
    }
}
