import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// A response read whole: status, headers and body.
public struct HTTPClientResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// Why a request failed before any response arrived.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public var url: String
    public var message: String
    public var description: String { "\(url): \(message)" }
}

/// Why a connection failed, in words: `connection refused`, not NIO's nested error values.
func connectFailure(_ error: any Error) -> String {
    func reason(_ error: any Error) -> String? {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        if let connect = error as? NIOConnectionError {
            for failure in connect.connectionErrors { if let text = reason(failure.error) { return text } }
            if connect.dnsAError != nil || connect.dnsAAAAError != nil { return "the host name did not resolve" }
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel { return "timed out" }
        return nil
    }
    return reason(error) ?? "\(error)"
}

/// A small HTTP/1.1 client on SwiftNIO for the CLI and the agent: one connection per request, no TLS.
///
/// Kept small on purpose: it links statically into `gold-agent` and has no dependency beyond NIO.
public enum HTTPClient {
    /// Sends one request and reads the whole response, failing after `timeout`.
    public static func send(
        _ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        timeout: Duration = .seconds(30)
    ) async throws -> HTTPClientResponse {
        let target = try URLParts(url)
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(5))
                .connect(host: target.host, port: target.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw HTTPClientError(
                url: url, message: "cannot connect to \(target.host):\(target.port): \(connectFailure(error))")
        }
        return try await withThrowingTaskGroup(of: HTTPClientResponse?.self) { group in
            group.addTask {
                try await exchange(channel, target: target, method: method, headers: headers, body: body, url: url)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else {
                try? await channel.channel.close()
                throw HTTPClientError(url: url, message: "no response within \(timeout)")
            }
            return response
        }
    }

    private static func exchange(
        _ channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>, target: URLParts, method: String,
        headers: [(String, String)], body: [UInt8]?, url: String
    ) async throws -> HTTPClientResponse {
        try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(
                version: .http1_1, method: HTTPMethod(rawValue: method), uri: target.pathAndQuery)
            head.headers.add(name: "Host", value: "\(target.host):\(target.port)")
            head.headers.add(name: "Connection", value: "close")
            head.headers.add(name: "Content-Length", value: "\(body?.count ?? 0)")
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            // The whole request in one write: written part by part, a busy client could still be writing the end
            // (nothing on the wire with a Content-Length) when the server had answered and closed the connection,
            // and that write failed with "I/O on closed channel" although the answer had arrived (seen in CI).
            var parts: [HTTPClientRequestPart] = [.head(head)]
            if let body, !body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            parts.append(.end(nil))
            var writeFailure: (any Error)?
            do {
                try await outbound.write(contentsOf: parts)
            } catch {
                // A server may answer before reading the whole body (a 413, a 401) and close: read its answer.
                writeFailure = error
            }

            var response = HTTPClientResponse(status: 0, headers: [], body: [])
            do {
                for try await part in inbound {
                    switch part {
                    case .head(let head):
                        response.status = Int(head.status.code)
                        response.headers = head.headers.map { ($0.name, $0.value) }
                    case .body(let buffer):
                        response.body.append(contentsOf: buffer.readableBytesView)
                    case .end:
                        return response
                    }
                }
            } catch {
                if writeFailure == nil { throw error }
            }
            if let writeFailure {
                throw HTTPClientError(
                    url: url, message: "the connection closed while the request was sent (\(writeFailure))")
            }
            throw HTTPClientError(url: url, message: "the connection closed before the response ended")
        }
    }
}

/// `http://host:port/path?query`, the only form Gold's servers use.
struct URLParts {
    var host: String
    var port: Int
    var pathAndQuery: String

    init(_ url: String) throws {
        guard url.hasPrefix("http://") else {
            throw HTTPClientError(url: url, message: "only http:// URLs are supported")
        }
        let rest = url.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        pathAndQuery = slash == rest.endIndex ? "/" : String(rest[slash...])
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            port = after.hasPrefix(":") ? Int(after.dropFirst()) ?? -1 : 80
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            port = Int(authority[authority.index(after: colon)...]) ?? -1
        } else {
            host = String(authority)
            port = 80
        }
        guard !host.isEmpty, (1...65535).contains(port) else {
            throw HTTPClientError(url: url, message: "not a valid http URL (host and port)")
        }
    }
}
