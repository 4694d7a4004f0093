import GoldHTTPClient
import NIOCore
import NIOPosix

/// A TCP connect from the build server, reading the first line when asked (an ssh banner).
enum TCPProbe {
    static func connect(host: String, port: Int, readBanner: Bool) async throws -> String? {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, _ in
            guard readBanner else { return nil }
            for try await buffer in inbound {
                return String(buffer: buffer).split(separator: "\r\n").first.map(String.init) ?? ""
            }
            return nil
        }
    }
}

enum GoldHTTPClientBridge {
    static func get(_ url: String) async throws -> Int {
        try await HTTPClient.send("GET", url, timeout: .seconds(10)).status
    }
}
