import Foundation
import GoldHTTPClient
import GoldSpawn
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A real `gold serve` with every role in one process (director, deploy with TFTP and proxyDHCP, compile), on
/// loopback ports of its own, for the hostile-input suite: tokens of every role, a machine, and ways to ask whether it
/// is still whole.
final class HostileGold: @unchecked Sendable {
    let dir: String
    let directorPort: Int
    let deployPort: Int
    let tftpPort: Int
    let dhcpPort: Int
    let process: Process
    var tokens: [String: String] = [:]

    var director: String { "http://127.0.0.1:\(directorPort)" }
    var deploy: String { "http://127.0.0.1:\(deployPort)" }

    init() async throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("gold-hostile-\(UUID().uuidString)").path
        let base = Int.random(in: 20000..<40000)
        (directorPort, deployPort, tftpPort, dhcpPort) = (base, base + 1, base + 2, base + 4)
        let director = "http://127.0.0.1:\(directorPort)"
        let initialize = try await Self.gold(["init", "--data-dir", dir])
        #expect(initialize.status == 0, "\(initialize.out)")
        try """
        data_dir: \(dir)
        roles: [director, deploy, compile]
        log_level: warning
        director:
          listen: 127.0.0.1:\(directorPort)
          store: sqlite
        deploy:
          director: \(director)
          http: 127.0.0.1:\(deployPort)
          tftp: 127.0.0.1:\(tftpPort)
          public_url: http://127.0.0.1:\(deployPort)
          dhcp: {mode: proxy, port: \(dhcpPort), server_address: 127.0.0.1}
        compile:
          director: \(director)
          work_dir: \(dir)/compile

        """.write(toFile: dir + "/gold.yaml", atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: DurabilityTests.binary)
        process.arguments = ["serve", "--config", dir + "/gold.yaml"]
        _ = FileManager.default.createFile(atPath: dir + "/serve.log", contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: dir + "/serve.log")
        process.standardError = FileHandle(forWritingAtPath: dir + "/serve.log")
        try process.run()
        // Up when both HTTP ports answer; a loaded machine may take a while to start every role.
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            if let answer = try? await HTTPClient.send("GET", director + "/healthz", timeout: .seconds(2)),
                answer.status == 200,
                let deployAnswer = try? await HTTPClient.send("GET", deploy + "/healthz", timeout: .seconds(2)),
                deployAnswer.status == 200
            {
                break
            }
            guard process.isRunning, ContinuousClock.now < deadline else {
                let log = (try? String(contentsOfFile: dir + "/serve.log", encoding: .utf8)) ?? ""
                Issue.record("gold serve did not come up: \(log.suffix(2000))")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        tokens["admin"] = try String(contentsOfFile: dir + "/admin.token", encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        let fleet = """
            machines:
              - name: m1
                macs: ["52:54:00:aa:00:01"]
                boot: bios
                disks: [{device: /dev/vda, size: 4GiB, partitions: [{size: rest, fs: ext4, mount: /}]}]
            """
        let applied = try await request(
            "POST", "/v1/fleet/apply", role: "admin", body: Array(fleet.utf8), type: "application/yaml")
        #expect(applied.status == 200, "\(applied.text)")
        for (role, machine) in [("viewer", nil), ("operator", nil), ("agent", "m1")] as [(String, String?)] {
            let body = try JSONSerialization.data(
                withJSONObject: ["role": role, "machine": machine as Any].compactMapValues { $0 is NSNull ? nil : $0 })
            let created = try await request("POST", "/v1/tokens", role: "admin", body: Array(body))
            let object = try JSONSerialization.jsonObject(with: Data(created.body)) as? [String: Any]
            tokens[role] = object?["token"] as? String
        }
        // A file to download over TFTP after every case.
        try Data((0..<100_000).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: dir + "/tftp/probe.bin"))
    }

    static func gold(_ arguments: [String]) async throws -> (status: Int32, out: String) {
        let result = try await Spawn.run(DurabilityTests.binary, arguments, timeout: .seconds(120))
        return (result.exitCode, result.output)
    }

    /// A request to the director (or `base`) with a role's token, or none.
    func request(
        _ method: String, _ path: String, role: String?, body: [UInt8]? = nil, type: String = "application/json",
        base: String? = nil, headers: [(String, String)] = []
    ) async throws -> HTTPClientResponse {
        var all = [("Content-Type", type)] + headers
        if let role, let token = tokens[role] { all.append(("Authorization", "Bearer \(token)")) }
        return try await HTTPClient.send(
            method, (base ?? director) + path, headers: all, body: body, timeout: .seconds(60))
    }

    var alive: Bool { process.isRunning }

    /// Resident memory of the server, from /proc.
    var rssKiB: Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// What must not change: machines, profiles and tokens as the API lists them.
    func storeSnapshot() async throws -> String {
        var parts: [String] = []
        for path in ["/v1/machines", "/v1/profiles", "/v1/tokens"] {
            parts.append(try await request("GET", path, role: "admin").text)
        }
        return parts.joined(separator: "\n")
    }

    /// The process still answers on every role: a TFTP download (curl) and a machine list.
    func stillServes() async throws -> Bool {
        guard alive else { return false }
        let out = dir + "/probe-\(UUID().uuidString).bin"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let curl = try await Spawn.run(
            "/usr/bin/curl", ["-s", "--max-time", "20", "-o", out, "tftp://127.0.0.1:\(tftpPort)/probe.bin"],
            timeout: .seconds(30))
        let downloaded = FileManager.default.contents(atPath: out)
        let list = try await request("GET", "/v1/machines", role: "viewer")
        return curl.exitCode == 0 && downloaded == FileManager.default.contents(atPath: dir + "/tftp/probe.bin")
            && list.status == 200
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// UDP datagrams to a loopback port (on a thread of its own, off the cooperative pool).
    func sendUDP(_ datagrams: [[UInt8]], port: Int) async {
        _ = await onThreads(1) { _ in Self.sendUDPBlocking(datagrams, port: port) }
    }

    static func sendUDPBlocking(_ datagrams: [[UInt8]], port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        for datagram in datagrams {
            _ = datagram.withUnsafeBytes { bytes in
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
        }
    }
}

/// A raw HTTP/1.1 request that declares `declared` body bytes and sends them in 64 KiB pieces until the server answers
/// or closes: what a hostile client does, and what a well-behaved server must not buffer. Returns the status, if one
/// came, and the bytes that went out.
func rawUpload(port: Int, path: String, declared: Int, authorization: String? = nil) -> (status: Int?, sent: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return (nil, 0) }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 20, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { return (nil, 0) }
    var head =
        "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(declared)\r\n"
    if let authorization { head += "Authorization: \(authorization)\r\n" }
    head += "\r\n"
    _ = head.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    let piece = [UInt8](repeating: 0x20, count: 64 << 10)
    var sent = 0
    var answer = [UInt8](repeating: 0, count: 4096)
    func readStatus() -> Int? {
        let got = recv(fd, &answer, answer.count, 0)
        guard got > 12 else { return nil }
        let text = String(decoding: answer[0..<got], as: UTF8.self)
        return Int(text.split(separator: " ").dropFirst().first ?? "")
    }
    while sent < declared {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        if poll(&poller, 1, 0) > 0 { return (readStatus(), sent) }
        let count = min(piece.count, declared - sent)
        let wrote = piece.withUnsafeBytes { send(fd, $0.baseAddress, count, Int32(MSG_NOSIGNAL)) }
        guard wrote > 0 else { return (readStatus(), sent) }
        sent += wrote
    }
    return (readStatus(), sent)
}

/// Runs `count` blocking bodies on threads of their own (not the cooperative pool, which has one thread per core).
func onThreads<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) async -> [T] {
    await withCheckedContinuation { continuation in
        let lock = NSLock()
        nonisolated(unsafe) var results: [Int: T] = [:]
        for index in 0..<count {
            Thread.detachNewThread {
                let result = body(index)
                lock.lock()
                results[index] = result
                let done = results.count == count
                lock.unlock()
                if done { continuation.resume(returning: (0..<count).compactMap { results[$0] }) }
            }
        }
    }
}
