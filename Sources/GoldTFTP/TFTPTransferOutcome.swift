/// How a transfer ended.
public enum TFTPTransferOutcome: Hashable, Sendable, CustomStringConvertible {
    /// The client acknowledged the final block.
    case completed
    /// The client stopped answering; retransmissions were exhausted.
    case timedOut
    /// The client sent an ERROR packet (RFC 1350 §7; code 8 when it refuses our OACK, RFC 2347 §2).
    case abortedByClient(TFTPErrorCode, String)
    /// The client sent a packet that makes no sense in a read transfer; we answered ERROR 4.
    case protocolViolation(String)
    /// Reading the file failed mid-transfer; we answered ERROR 0.
    case readFailed(String)
    /// The server refused the request before any data moved (path, missing file, write, limits, options).
    case refused(TFTPErrorCode, String)
    /// The server stopped while the transfer was running.
    case cancelled

    /// True only for ``completed``.
    public var isSuccess: Bool { self == .completed }

    public var description: String {
        switch self {
        case .completed: "completed"
        case .timedOut: "timed out"
        case .abortedByClient(let code, let message): "aborted by client with error \(code): \(message)"
        case .protocolViolation(let message): "protocol violation: \(message)"
        case .readFailed(let message): "read failed: \(message)"
        case .refused(let code, let message): "refused with error \(code): \(message)"
        case .cancelled: "cancelled"
        }
    }
}
