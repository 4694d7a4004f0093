import Synchronization

/// What the deploy server's `/v1` proxy reads before passing a request to the director: only requests that carry a
/// token, only as many bytes as the route can take, and only while the bodies in flight fit a fixed budget. The
/// director checks the token itself; the proxy refuses what could only waste its memory.
public struct ProxyPolicy: Sendable {
    /// Routes that take large bodies (capture commits and chunks, binary backups) and how much.
    public var largeBodyLimit = 64 << 20
    /// Every other route: the director's own limit.
    public var bodyLimit = 8 << 20
    /// Bytes of request bodies held at once, across all proxied requests.
    public var budget = 256 << 20

    public init() {}

    public enum Decision: Equatable, Sendable {
        /// Read at most this many bytes and pass the request on.
        case read(limit: Int)
        case refuse(status: Int, message: String)
    }

    /// Decides from the request line and headers alone, before a byte of the body is read.
    public func decide(path: String, authorization: String?, contentLength: String?) -> Decision {
        guard let authorization, authorization.hasPrefix("Bearer "), authorization.count > 7 else {
            return .refuse(status: 401, message: "a bearer token is required (Authorization: Bearer gold_...)")
        }
        let limit = Self.takesLargeBodies(path) ? largeBodyLimit : bodyLimit
        if let contentLength {
            guard let length = Int(contentLength), length >= 0 else {
                return .refuse(status: 400, message: "Content-Length '\(contentLength.prefix(40))' is not a byte count")
            }
            guard length <= limit else {
                return .refuse(
                    status: 413, message: "the body is \(length) bytes; \(path.prefix(200)) takes at most \(limit)")
            }
        }
        return .read(limit: limit)
    }

    /// `/v1/images/{m}/captures/…` and `/v1/machines/{m}/backups/…`.
    static func takesLargeBodies(_ path: String) -> Bool {
        let parts = path.split(separator: "/")
        guard parts.count >= 4, parts[0] == "v1" else { return false }
        return (parts[1] == "images" && parts[3] == "captures") || (parts[1] == "machines" && parts[3] == "backups")
    }
}

/// Bytes reserved by the bodies in flight; a reservation that does not fit is refused (503), never queued.
public final class ProxyBudget: Sendable {
    private let used = Mutex(0)
    public let capacity: Int

    public init(capacity: Int) { self.capacity = capacity }

    public func reserve(_ bytes: Int) -> Bool {
        used.withLock { used in
            guard bytes <= capacity - used else { return false }
            used += bytes
            return true
        }
    }

    public func release(_ bytes: Int) { used.withLock { $0 -= bytes } }

    public var inUse: Int { used.withLock { $0 } }
}
