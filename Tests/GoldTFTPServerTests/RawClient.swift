import Foundation
import GoldTFTP
import NIOCore

/// A minimal UDP client for packets no real client sends (traversal, WRQ, garbage) and for holding a
/// transfer open. Blocking, with a poll-based receive deadline so a silent server fails the test.
final class RawClient: @unchecked Sendable {
    let fd: CInt
    let serverPort: Int
    let host: String
    /// The port the last packet came from (the server's transfer ID).
    var peerPort: Int = 0

    init(serverPort: Int, host: String = "127.0.0.1", bindHost: String = "127.0.0.1") throws {
        self.serverPort = serverPort
        self.host = host
        self.fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_port = 0
        inet_pton(AF_INET, bindHost, &local.sin_addr)
        let status = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(self.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard self.fd >= 0, status == 0 else { throw POSIXError(.EADDRNOTAVAIL) }
    }

    deinit { close(self.fd) }

    func send(_ packet: TFTPPacket, toPort port: Int? = nil) {
        self.sendRaw(Array(packet.encoded().readableBytesView), toPort: port)
    }

    func sendRaw(_ bytes: [UInt8], toPort port: Int? = nil) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port ?? self.serverPort).bigEndian)
        inet_pton(AF_INET, self.host, &address.sin_addr)
        _ = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(self.fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// The next packet, or nil after `milliseconds` of silence (long: a loaded CI machine can take seconds to answer).
    /// Waits on a thread of its own, never on the cooperative pool (the server under test needs those threads to
    /// answer) nor on Dispatch's global pool (waits of up to 30 s there starved other tests' work).
    func receive(milliseconds: Int32 = 30000) async throws -> TFTPPacket? {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try self.receiveBlocking(milliseconds: milliseconds) })
            }
        }
    }

    func receiveBlocking(milliseconds: Int32) throws -> TFTPPacket? {
        var pollfd = pollfd(fd: self.fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pollfd, 1, milliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 70000)
        var from = sockaddr_in()
        var fromLength = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = withUnsafeMutablePointer(to: &from) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                recvfrom(self.fd, &buffer, buffer.count, 0, $0, &fromLength)
            }
        }
        guard count >= 0 else { return nil }
        self.peerPort = Int(UInt16(bigEndian: from.sin_port))
        return try TFTPPacket.parse(ByteBuffer(bytes: buffer[0..<count]))
    }

    /// Sends an RRQ and returns the first answer.
    func request(_ filename: String, mode: TFTPMode = .octet, options: [TFTPOption] = []) async throws -> TFTPPacket? {
        self.send(.readRequest(TFTPRequest(filename: filename, mode: mode, options: options)))
        return try await self.receive()
    }
}
