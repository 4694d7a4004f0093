import GoldTFTP
import NIOCore

/// What happened to one request: reported to the observer when a transfer ends or a request is refused.
public struct TFTPTransferRecord: Sendable, CustomStringConvertible {
    /// The client's address and port (its transfer ID).
    public var client: SocketAddress
    /// The filename exactly as requested.
    public var requestedFilename: String
    /// The root-relative path after confinement, nil if confinement refused it.
    public var path: String?
    /// The requested mode, nil if the packet was not a request.
    public var mode: TFTPMode?
    /// The file size when it was opened.
    public var fileSize: Int?
    /// Data bytes the client acknowledged.
    public var bytesSent: Int
    /// How it ended.
    public var outcome: TFTPTransferOutcome
    /// From the request's arrival to the end.
    public var duration: Duration
    /// The negotiated options, nil when refused before negotiation.
    public var options: TFTPNegotiatedOptions?
    /// Packet counters, nil when refused before the transfer started.
    public var statistics: TFTPReadTransfer.Statistics?

    public var description: String {
        "\(self.client) \(self.requestedFilename): \(self.outcome), \(self.bytesSent) bytes in \(self.duration)"
    }
}

/// Receives every ``TFTPTransferRecord``; called on an event loop, so it must return quickly.
public typealias TFTPTransferObserver = @Sendable (TFTPTransferRecord) -> Void
