import Foundation
import GoldCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why talking to a QMP socket failed, before the driver names machine and action.
enum QMPFailure: Error {
    case unreachable(String)
    case timedOut(String)
    case commandFailed(errorClass: String, description: String)
    case badReply(String)
}

/// A blocking connection to one QMP unix socket, with a deadline on every read and write.
///
/// Not thread-safe; one per operation. Capabilities negotiation (`qmp_capabilities`, QMP spec §4) happens in
/// ``open(path:timeout:)``.
final class QMPConnection {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private(set) var version = ""

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    static func open(path: String, timeout: Duration) throws(QMPFailure) -> QMPConnection {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            throw .unreachable("socket path is \(bytes.count) bytes; unix sockets allow \(capacity - 1)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        #if canImport(Glibc)
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
            let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw .unreachable("socket(): \(String(cString: strerror(errno)))") }
        let connection = QMPConnection(fd: fd)
        var tv = timeval(
            tv_sec: Int(timeout.components.seconds),
            tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let reason = String(cString: strerror(errno))
            throw .unreachable("connect(\(path)): \(reason) (is the VM's QEMU process running?)")
        }
        switch try connection.readMessage() {
        case .greeting(let version): connection.version = version
        default: throw .badReply("no QMP greeting on connect")
        }
        _ = try connection.execute("qmp_capabilities")
        return connection
    }

    /// Runs one command and returns its `return` value, skipping events that arrive before it.
    ///
    /// With `awaiting`, also waits (within the read deadline) for that event, which may come before or after the
    /// reply: `system_reset` only requests a reset, and the `RESET` event says it has happened.
    func execute(_ name: String, arguments: [String: JSONValue] = [:], awaiting event: String? = nil)
        throws(QMPFailure) -> JSONValue
    {
        try send(QMPMessage.command(name, arguments: arguments) + "\n")
        var result: JSONValue?
        var eventSeen = event == nil
        while result == nil || !eventSeen {
            switch try readMessage() {
            case .success(let value): result = value
            case .error(let errorClass, let description):
                throw .commandFailed(errorClass: errorClass, description: "\(name): \(description)")
            case .event(let seen, _): if seen == event { eventSeen = true }
            case .greeting: continue
            }
        }
        return result!
    }

    private func send(_ text: String) throws(QMPFailure) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw .timedOut("writing to QMP") }
                throw .unreachable("send: \(String(cString: strerror(errno)))")
            }
            bytes = bytes.dropFirst(n)
        }
    }

    private func readMessage() throws(QMPFailure) -> QMPMessage {
        let line = try readLine()
        do {
            return try QMPMessage.parse(line)
        } catch {
            throw .badReply(error.description)
        }
    }

    private func readLine() throws(QMPFailure) -> String {
        while true {
            if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
                if trimmed.isEmpty { continue }
                return trimmed
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw .timedOut("waiting for a QMP reply") }
                throw .unreachable("recv: \(String(cString: strerror(errno)))")
            }
            if n == 0 { throw .unreachable("QEMU closed the QMP connection") }
            buffer.append(contentsOf: chunk[..<n])
        }
    }
}
