/// An error from the TFTP codec, option negotiation, path confinement or a file source.
///
/// `code` says what kind of problem it is (new kinds break no caller's `switch`); `wireCode` is the RFC 1350
/// error code to send to the client; `message` names the field or file and is safe to send to the client.
public struct TFTPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of error.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case malformedPacket
            case unsupportedMode
            case pathRefused
            case fileNotFound
            case optionRefused
            case readOnly
            case busy
            case readFailed
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The datagram is not a well-formed TFTP packet.
        public static let malformedPacket = Code(.malformedPacket)
        /// The transfer mode is not `octet` or `netascii`.
        public static let unsupportedMode = Code(.unsupportedMode)
        /// The requested filename is refused by path confinement (traversal, absolute path, bad characters).
        public static let pathRefused = Code(.pathRefused)
        /// No such file, or not a regular file.
        public static let fileNotFound = Code(.fileNotFound)
        /// The request's options cannot be negotiated.
        public static let optionRefused = Code(.optionRefused)
        /// A write request to this read-only server.
        public static let readOnly = Code(.readOnly)
        /// The server or this client has too many transfers in progress.
        public static let busy = Code(.busy)
        /// Reading the file failed after the transfer started.
        public static let readFailed = Code(.readFailed)

        public var description: String { "\(self.base)" }
    }

    /// The kind of error.
    public var code: Code
    /// The RFC 1350 error code to answer the client with.
    public var wireCode: TFTPErrorCode
    /// A one-line explanation naming the field or file.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, wireCode: TFTPErrorCode, _ message: String) {
        self.code = code
        self.wireCode = wireCode
        self.message = message
    }

    static func malformed(_ message: String) -> TFTPError {
        TFTPError(.malformedPacket, wireCode: .illegalOperation, message)
    }

    /// The ERROR packet to send to the client for this error.
    public var packet: TFTPPacket { .error(code: self.wireCode, message: self.message) }

    public var description: String { "TFTP \(self.code) (error \(self.wireCode)): \(self.message)" }
}
