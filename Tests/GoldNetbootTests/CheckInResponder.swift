import Foundation
import GoldSpawn

#if canImport(Glibc)
    import Glibc
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 that answers every request with 204 and records
/// `PUT /v1/machines/NAME/inventory` bodies; QEMU's user network reaches it as 10.0.2.2.
final class CheckInResponder: @unchecked Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        var headers: [String: String]
        var body: Data
        var at: Date
    }

    let port: UInt16
    private let listener: Int32
    private let condition = NSCondition()
    private var requests: [Request] = []
    private var stopped = false

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.unlock()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// ``wait(until:for:)`` on a thread of its own: a test waiting minutes for a boot must not hold one of the
    /// cooperative pool's few threads, which every other test in the process needs.
    func arrival(until deadline: Date, for predicate: @escaping @Sendable (Request) -> Bool) async -> Request? {
        await Blocking.run { self.wait(until: deadline, for: predicate) }
    }

    /// Waits until a request matching `predicate` arrives, or `deadline` passes.
    func wait(until deadline: Date, for predicate: (Request) -> Bool) -> Request? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let match = requests.first(where: predicate) { return match }
            if Date() >= deadline || stopped { return nil }
            _ = condition.wait(until: min(deadline, Date().addingTimeInterval(1)))
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                condition.lock()
                let done = stopped
                condition.unlock()
                if done { return }
                continue
            }
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int?
        var contentLength = 0
        var head: [String] = []
        while true {
            let count = read(client, &chunk, chunk.count)
            if count <= 0 { return }
            buffer += chunk[0..<count]
            if headerEnd == nil, let end = Self.find([13, 10, 13, 10], in: buffer) {
                headerEnd = end + 4
                head = String(decoding: buffer[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
                for line in head.dropFirst() where line.lowercased().hasPrefix("content-length:") {
                    contentLength =
                        Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let headerEnd, buffer.count >= headerEnd + contentLength { break }
        }
        let requestLine = head.first?.split(separator: " ") ?? []
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        let start = headerEnd ?? buffer.count
        let request = Request(
            method: requestLine.count > 0 ? String(requestLine[0]) : "",
            path: requestLine.count > 1 ? String(requestLine[1]) : "",
            headers: headers, body: Data(buffer[start..<min(buffer.count, start + contentLength)]), at: Date())
        let reply: [UInt8]
        if request.method == "POST" && request.path.hasSuffix("/check-in") {
            // The director's answer: a session token for the rest of the netboot.
            let body = #"{"machine":"m1","mode":"discovery","token":"session-1","nextBoot":"disk"}"#
            reply = Array(
                "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                    .utf8)
        } else if request.method == "GET" && request.path.hasPrefix("/v1/agent/commands") {
            reply = Array(
                "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]"
                    .utf8)
        } else {
            reply = Array("HTTP/1.1 204 No Content\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".utf8)
        }
        _ = reply.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
        condition.lock()
        requests.append(request)
        condition.broadcast()
        condition.unlock()
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where Array(haystack[index..<index + needle.count]) == needle {
            return index
        }
        return nil
    }
}
