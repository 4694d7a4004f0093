import GoldTFTP
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Serves files below a root directory, after consulting an optional dynamic hook.
///
/// Symlinks are resolved (`realpath`) and the result must stay inside the real root: `/srv/tftp-private` beside
/// `/srv/tftp` does not count as inside (the check compares whole path components).
public struct DirectoryFileSource: TFTPFileSource {
    /// Consulted first, e.g. to render `pxelinux.cfg/01-<mac>` for a known machine; return nil to fall through
    /// to the directory.
    public typealias DynamicHook = @Sendable (_ relativePath: String, _ client: SocketAddress) async throws -> TFTPFile?

    /// The root directory as given.
    public let root: String
    let dynamic: DynamicHook?
    let threadPool: NIOThreadPool

    /// Creates a source for `root`.
    public init(root: String, dynamic: DynamicHook? = nil, threadPool: NIOThreadPool = .singleton) {
        self.root = root
        self.dynamic = dynamic
        self.threadPool = threadPool
    }

    public func open(_ relativePath: String, client: SocketAddress) async throws -> TFTPFile {
        let path = try TFTPPath.confine(relativePath)  // again: a caller may skip it
        if let dynamic, let file = try await dynamic(path, client) {
            return file
        }
        let root = self.root
        return try await self.threadPool.runIfActive {
            try Self.openConfined(path, root: root)
        }
    }

    /// Resolves `path` below `root` and opens it if its real path stays inside the real root. Blocking.
    static func openConfined(_ path: String, root: String) throws -> TFTPFile {
        guard let realRoot = realPath(root) else {
            throw TFTPError(
                .fileNotFound, wireCode: .notDefined, "TFTP root '\(root)' cannot be resolved (errno \(errno))")
        }
        let candidate = realRoot == "/" ? "/" + path : realRoot + "/" + path
        guard let resolved = realPath(candidate) else {
            throw TFTPError.fromErrno(errno, path: path)
        }
        let prefix = realRoot == "/" ? "/" : realRoot + "/"
        guard resolved.hasPrefix(prefix), resolved.count > prefix.count else {
            throw TFTPError(.pathRefused, wireCode: .accessViolation, "'\(path)' resolves outside the TFTP root")
        }
        return try TFTPFile.open(path: resolved, displayName: path)
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
