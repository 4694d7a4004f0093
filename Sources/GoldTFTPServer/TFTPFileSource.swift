import GoldTFTP
import NIOCore

/// Where the server gets the files it sends.
public protocol TFTPFileSource: Sendable {
    /// Opens `relativePath` (already confined by ``TFTPPath/confine(_:)``: root-relative, no `..`) for `client`.
    ///
    /// Throw ``TFTPError`` to choose the ERROR sent to the client; any other error is sent as
    /// "file not found".
    func open(_ relativePath: String, client: SocketAddress) async throws -> TFTPFile
}

/// A file source that serves a fixed set of in-memory files (tests, generated boot menus).
public struct InMemoryFileSource: TFTPFileSource {
    /// The files by root-relative path.
    public var files: [String: ByteBuffer]

    /// Creates a source with these files.
    public init(files: [String: ByteBuffer]) {
        self.files = files
    }

    public func open(_ relativePath: String, client: SocketAddress) async throws -> TFTPFile {
        guard let bytes = self.files[relativePath] else {
            throw TFTPError(.fileNotFound, wireCode: .fileNotFound, "'\(relativePath)' not found")
        }
        return .bytes(bytes)
    }
}
