import Foundation
import Synchronization

/// A TCP proxy on 127.0.0.1 for HTTP/1.1 with one request per connection (Gold's client sends `Connection: close`):
/// every request goes to `upstream` unchanged and every answer comes back unchanged, except that when
/// `corrupt(path, attempt)` says so, one byte in the body of the answer to the `attempt`-th `GET path` is flipped,
/// like a bad NIC, cable or middlebox would. Blocking sockets, a thread per connection: test support only.
final class ByteFlippingProxy: @unchecked Sendable {
    /// One request the proxy passed on.
    struct Exchange: Sendable, Equatable {
        var method: String
        var path: String
        var attempt: Int
        var status: String
        var flippedAt: Int?
    }

    let port: Int
    private let listener: Int32
    private let upstreamPort: Int
    private let corrupt: @Sendable (_ path: String, _ attempt: Int) -> Bool
    private let state = Mutex<(exchanges: [Exchange], attempts: [String: Int], stopped: Bool)>(([], [:], false))
    private let acceptor = DispatchGroup()

    init(upstreamPort: Int, corrupt: @escaping @Sendable (_ path: String, _ attempt: Int) -> Bool) throws {
        self.upstreamPort = upstreamPort
        self.corrupt = corrupt
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProxyError("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw ProxyError("bind/listen on 127.0.0.1: \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        acceptor.enter()
        Thread.detachNewThread { [self] in
            defer { acceptor.leave() }
            acceptLoop()
        }
    }

    /// Every request passed on so far, in the order they were answered.
    var exchanges: [Exchange] { state.withLock { $0.exchanges } }

    /// Stops accepting; connections in progress finish on their own threads.
    func stop() {
        let already = state.withLock { state in
            defer { state.stopped = true }
            return state.stopped
        }
        guard !already else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        acceptor.wait()
        close(listener)
    }

    deinit { stop() }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            if state.withLock({ $0.stopped }) {
                close(client)
                return
            }
            Thread.detachNewThread { [self] in
                defer { close(client) }
                serve(client)
            }
        }
    }

    private func serve(_ client: Int32) {
        guard let request = Self.readMessage(client), let line = request.head.split(separator: "\r\n").first else {
            return
        }
        let words = line.split(separator: " ")
        guard words.count >= 2 else { return }
        let method = String(words[0])
        let path = String(words[1])
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard upstream >= 0 else { return }
        defer { close(upstream) }
        var address = Self.loopback(port: upstreamPort)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0, Self.sendAll(upstream, request.bytes) else { return }
        guard var response = Self.readMessage(upstream) else { return }
        let attempt = state.withLock { state in
            state.attempts["\(method) \(path)", default: 0] += 1
            return state.attempts["\(method) \(path)"]!
        }
        var flippedAt: Int?
        let bodyLength = response.bytes.count - response.bodyStart
        if method == "GET", bodyLength > 0, corrupt(path, attempt) {
            let at = response.bodyStart + min(100, bodyLength - 1)
            response.bytes[at] ^= 0x20
            flippedAt = at - response.bodyStart
        }
        let status =
            response.head.split(separator: "\r\n").first.map {
                $0.split(separator: " ").dropFirst().first.map(String.init) ?? ""
            } ?? ""
        state.withLock {
            $0.exchanges.append(
                Exchange(method: method, path: path, attempt: attempt, status: status, flippedAt: flippedAt))
        }
        _ = Self.sendAll(client, response.bytes)
    }

    /// One HTTP/1.1 message: the head, then a body of Content-Length bytes (or up to the end of the stream).
    private static func readMessage(_ fd: Int32) -> (head: String, bodyStart: Int, bytes: [UInt8])? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var headEnd: Int?
        var contentLength: Int?
        while true {
            if let end = headEnd, let length = contentLength, bytes.count >= end + length { break }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
            if headEnd == nil, let range = bytes.firstRange(of: Array("\r\n\r\n".utf8)) {
                headEnd = range.upperBound
                let head = String(decoding: bytes[0..<range.lowerBound], as: UTF8.self)
                contentLength =
                    head.split(separator: "\r\n").compactMap { field -> Int? in
                        let parts = field.split(separator: ":", maxSplits: 1)
                        guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                        return Int(parts[1].trimmingCharacters(in: .whitespaces))
                    }.first
                // A request without a body says Content-Length: 0 or nothing at all.
                if contentLength == nil, head.hasPrefix("GET ") || head.hasPrefix("HEAD ") { contentLength = 0 }
            }
        }
        guard let end = headEnd else { return nil }
        return (String(decoding: bytes[0..<end - 4], as: UTF8.self), end, bytes)
    }

    private static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            done += n
        }
        return true
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

struct ProxyError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
