import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Two throwaway network namespaces joined by a veth pair: the server's end and the client's end.
/// Everything is named after the test process id and removed by `tearDown()`.
struct NetworkNamespaceLab {
    let serverNamespace: String
    let clientNamespace: String
    let serverInterface: String
    let clientInterface: String

    init(tag: String) {
        let id = getpid()
        serverNamespace = "gold-dhcp-test-\(id)-\(tag)-s"
        clientNamespace = "gold-dhcp-test-\(id)-\(tag)-c"
        serverInterface = "gds\(id % 100_000)\(tag)"
        clientInterface = "gdc\(id % 100_000)\(tag)"
    }

    struct CommandFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Fails with the Debian package to install when the test cannot run here.
    static func requirements() -> String? {
        if getuid() != 0 { return "needs root to create network namespaces (run the tests as root)" }
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")
            && !FileManager.default.isExecutableFile(atPath: "/sbin/ip")
        {
            return "needs `ip` from the Debian package iproute2"
        }
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/busybox")
            && !FileManager.default.isExecutableFile(atPath: "/bin/busybox")
        {
            return "needs `busybox udhcpc` from the Debian package busybox-static"
        }
        return nil
    }

    /// Creates both namespaces and the veth pair; the server end gets `serverCIDR`, the client end `clientMAC`.
    func setUp(serverCIDR: String, clientMAC: String) throws {
        Self.removeOrphans()
        try Self.run(["ip", "netns", "add", serverNamespace])
        try Self.run(["ip", "netns", "add", clientNamespace])
        try Self.run(["ip", "link", "add", serverInterface, "type", "veth", "peer", "name", clientInterface])
        try Self.run(["ip", "link", "set", serverInterface, "netns", serverNamespace])
        try Self.run(["ip", "link", "set", clientInterface, "netns", clientNamespace])
        try Self.run(["ip", "-n", serverNamespace, "addr", "add", serverCIDR, "dev", serverInterface])
        try Self.run(["ip", "-n", serverNamespace, "link", "set", serverInterface, "up"])
        try Self.run(["ip", "-n", clientNamespace, "link", "set", clientInterface, "address", clientMAC])
        try Self.run(["ip", "-n", clientNamespace, "link", "set", clientInterface, "up"])
    }

    /// Bridges the client end with a new tap device `tap` in the client namespace, for a QEMU NIC.
    func addClientTap(_ tap: String) throws {
        let bridge = "gdb\(getpid() % 100_000)"
        try Self.run(["ip", "-n", clientNamespace, "link", "add", bridge, "type", "bridge"])
        try Self.run(["ip", "-n", clientNamespace, "tuntap", "add", tap, "mode", "tap"])
        try Self.run(["ip", "-n", clientNamespace, "link", "set", tap, "master", bridge])
        try Self.run(["ip", "-n", clientNamespace, "link", "set", clientInterface, "master", bridge])
        for device in [tap, bridge] {
            try Self.run(["ip", "-n", clientNamespace, "link", "set", device, "up"])
        }
    }

    /// Deletes both namespaces, which also removes the veth pair; safe to call after a partial setUp.
    func tearDown() {
        _ = try? Self.run(["ip", "netns", "del", serverNamespace])
        _ = try? Self.run(["ip", "netns", "del", clientNamespace])
        _ = try? Self.run(["ip", "link", "del", serverInterface])
    }

    /// Deletes namespaces an earlier test process of this suite left behind when it crashed.
    static func removeOrphans() {
        guard let list = try? run(["ip", "netns", "list"]) else { return }
        for line in list.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            let fields = name.split(separator: "-")
            guard name.hasPrefix("gold-dhcp-test-"), fields.count >= 4, let pid = Int32(fields[3]),
                kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            _ = try? run(["ip", "netns", "del", name])
        }
    }

    /// A UDP socket bound to 0.0.0.0:`port` inside the server namespace, made on a short-lived thread that
    /// entered the namespace (setns(2) changes only the calling thread).
    func serverSocket(port: UInt16, stream: Bool = false) async throws -> Int32 {
        let path = "/run/netns/\(serverNamespace)"
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                let namespace = open(path, O_RDONLY | O_CLOEXEC)
                guard namespace >= 0 else {
                    return continuation.resume(throwing: CommandFailure(description: "open \(path): errno \(errno)"))
                }
                defer { close(namespace) }
                // CLONE_NEWNET
                guard Self.setns(namespace, 0x4000_0000) == 0 else {
                    return continuation.resume(throwing: CommandFailure(description: "setns \(path): errno \(errno)"))
                }
                let fd = socket(AF_INET, Int32((stream ? SOCK_STREAM : SOCK_DGRAM).rawValue), 0)
                var one: Int32 = 1
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = port.bigEndian
                let bound = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
                guard fd >= 0, bound == 0, !stream || listen(fd, 8) == 0 else {
                    close(fd)
                    return continuation.resume(throwing: CommandFailure(description: "bind :\(port): errno \(errno)"))
                }
                continuation.resume(returning: fd)
            }
            thread.start()
        }
    }

    /// Accepts one connection on a listening TCP socket and returns the first line the peer sends (an HTTP
    /// request line), answering 404; nil when the socket is closed first.
    static func firstRequestLine(on listener: Int32) async -> String? {
        await withCheckedContinuation { continuation in
            Thread {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return continuation.resume(returning: nil) }
                defer { close(connection) }
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = read(connection, &buffer, buffer.count)
                let text = String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self)
                let reply = Array("HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n".utf8)
                _ = write(connection, reply, reply.count)
                continuation.resume(returning: text.split(separator: "\r\n").first.map(String.init))
            }.start()
        }
    }

    /// setns(2) is declared only under _GNU_SOURCE, which Swift's Glibc module does not define: look it up.
    private static func setns(_ fd: Int32, _ type: Int32) -> Int32 {
        typealias SetNS = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "setns") else { return -1 }
        return unsafeBitCast(symbol, to: SetNS.self)(fd, type)
    }

    /// Runs a command to completion; throws with its output when it fails.
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailure(
                description: "\(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(output)")
        }
        return output
    }

    /// Runs a command without blocking the caller's task.
    static func runDetached(_ arguments: [String]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try run(arguments) })
            }.start()
        }
    }
}
