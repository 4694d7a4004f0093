import Foundation
import GoldHTTPClient
import Testing

/// Every byte from outside is hostile: the real `gold serve` (all roles in one process) gets each case below over
/// HTTP, TFTP or DHCP with the lowest role that reaches the code, and after each it must be alive, still serve a TFTP
/// download and a machine list, and hold the same machines, profiles and tokens. scripts/test.sh runs this suite in a
/// stage of its own: its floods want the CPUs, and would slow the timing of tests beside them.
@Suite(.serialized) struct HostileInputTests {
    /// One hostile input: what it tries, who sends it, and the statuses a careful server may answer.
    struct Case: Sendable {
        var name: String
        var role: String?
        var send: @Sendable (HostileGold) async throws -> Int?
        var expected: ClosedRange<Int>
    }

    static func fleet(_ yaml: String, apply: Bool = false, role: String = "viewer")
        -> @Sendable (HostileGold) async throws -> Int?
    {
        { gold in
            try await gold.request(
                "POST", apply ? "/v1/fleet/apply" : "/v1/fleet/validate", role: role, body: Array(yaml.utf8)
            ).status
        }
    }

    static let laughs: String = {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            text +=
                "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
                + "]\n"
        }
        return text + "machines: []\n"
    }()

    static let cases: [Case] = [
        Case(
            name: "fleet validate: a partition of 17e18 bytes (trapped the process)", role: "viewer",
            send: fleet(
                """
                machines:
                  - {name: a, macs: ["52:54:00:00:00:09"], boot: bios, disks: [{device: /dev/vda, size: 8GiB, partitions: [{size: 17000000000000000000, fs: ext4, mount: /}]}]}
                """), expected: 400...422),
        Case(
            name: "fleet validate: a deadline of 9999999999999999h (trapped the process)", role: "viewer",
            send: fleet(
                """
                machines:
                  - {name: a, macs: ["52:54:00:00:00:09"], deadlines: {pxe: 9999999999999999h}}
                """), expected: 400...422),
        Case(
            name: "fleet validate: nine levels of ten aliases (3.5 GB and 44 s before)", role: "viewer",
            send: fleet(laughs), expected: 400...422),
        Case(
            name: "fleet validate: 100,000 nested brackets", role: "viewer",
            send: fleet("machines: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)),
            expected: 400...422),
        Case(
            name: "fleet apply: an empty IPMI address (trapped the director at every restart)", role: "operator",
            send: fleet(
                """
                machines:
                  - {name: m2, macs: ["52:54:00:00:00:09"], power: {driver: ipmi, address: "", username: u}}
                """, apply: true, role: "operator"), expected: 400...422),
        Case(
            name: "fleet apply: a kernel localversion with a newline (trapped the compile worker)", role: "operator",
            send: fleet(
                """
                machines:
                  - {name: m2, macs: ["52:54:00:00:00:09"], kernel: {source: "debian:linux-source-6.1", localversion: "-a\\nb"}}
                """, apply: true, role: "operator"), expected: 400...422),
        Case(
            name: "capture commit: a disk of 2^64-1 bytes (trapped the process)", role: "agent",
            send: { gold in
                let begun = try await gold.request("POST", "/v1/images/m1/captures", role: "agent")
                let session =
                    (try JSONSerialization.jsonObject(with: Data(begun.body)) as? [String: Any])?["id"] as? String
                    ?? "none"
                let body =
                    #"{"disks":[{"index":0,"size":18446744073709551615,"sha256":"x","chunkSize":1048576,"chunks":[]}]}"#
                return try await gold.request(
                    "POST", "/v1/images/m1/captures/\(session)/commit", role: "agent", body: Array(body.utf8)
                ).status
            }, expected: 400...400),
        Case(
            name: "capture: 1,000 sessions begun by one agent", role: "agent",
            send: { gold in
                var last = 0
                for _ in 0..<1000 {
                    last = try await gold.request("POST", "/v1/images/m1/captures", role: "agent").status
                }
                return last
            }, expected: 201...201),
        Case(
            name: "boot success: a 1 MiB kernel name", role: "agent",
            send: { gold in
                let body = try JSONSerialization.data(withJSONObject: ["kernel": String(repeating: "6", count: 1 << 20)]
                )
                return try await gold.request("POST", "/v1/machines/m1/boot-success", role: "agent", body: Array(body))
                    .status
            }, expected: 400...400),
        Case(
            name: "agent result: 8 MiB without a token", role: nil,
            send: { gold in
                await onThreads(1) { _ in
                    rawUpload(port: gold.directorPort, path: "/v1/agent/commands/c1/result", declared: 8 << 20)
                }[0].status
            }, expected: 401...401),
        Case(
            name: "deploy /v1 proxy: 60 MiB declared without a token", role: nil,
            send: { gold in
                await onThreads(1) { _ in
                    rawUpload(port: gold.deployPort, path: "/v1/fleet/validate", declared: 60 << 20)
                }[0].status
            }, expected: 401...401),
        Case(
            name: "deploy /v1 proxy: a body past the route's limit", role: "viewer",
            send: { gold in
                let token = gold.tokens["viewer"] ?? ""
                return await onThreads(1) { _ in
                    rawUpload(
                        port: gold.deployPort, path: "/v1/fleet/validate", declared: 9 << 20,
                        authorization: "Bearer \(token)")
                }[0].status
            }, expected: 413...413),
        Case(
            name: "events: newest past its range", role: "viewer",
            send: { gold in
                try await gold.request("GET", "/v1/events?newest=99999999999999999999", role: "viewer").status
            }, expected: 400...400),
        Case(
            name: "events: a negative limit", role: "viewer",
            send: { gold in
                try await gold.request("GET", "/v1/events?limit=-5", role: "viewer").status
            }, expected: 400...400),
        Case(
            name: "rollouts: active=30882460 (was read as false)", role: "viewer",
            send: { gold in
                try await gold.request("GET", "/v1/rollouts?active=30882460", role: "viewer").status
            }, expected: 400...400),
        Case(
            name: "image disk: a Range header of garbage", role: "viewer",
            send: { gold in
                try await gold.request(
                    "GET", "/images/m1/1/disk0.raw", role: nil, base: gold.deploy,
                    headers: [("Range", "bytes=99999999999999999999999-1")]
                ).status
            }, expected: 400...416),
        Case(
            name: "TFTP: 2,000 read requests for missing files", role: nil,
            send: { gold in
                let requests = (0..<2000).map { index in
                    [0, 1] + Array("missing-\(index)".utf8) + [0] + Array("octet".utf8) + [0] as [UInt8]
                }
                await gold.sendUDP(requests, port: gold.tftpPort)
                return nil
            }, expected: 0...0),
        Case(
            name: "TFTP: 500 datagrams of random bytes and truncated options", role: nil,
            send: { gold in
                var generator = SystemRandomNumberGenerator()
                var datagrams = (0..<400).map { _ in
                    (0..<Int.random(in: 0..<600, using: &generator)).map { _ in
                        UInt8.random(in: 0...255, using: &generator)
                    }
                }
                datagrams += (0..<100).map { _ in
                    [0, 1] + Array("probe.bin".utf8) + [0] + Array("octet".utf8) + [0] + Array("blksize".utf8)
                }
                await gold.sendUDP(datagrams, port: gold.tftpPort)
                return nil
            }, expected: 0...0),
        Case(
            name: "DHCP: 1,000 DISCOVERs from random MACs and 200 malformed packets", role: nil,
            send: { gold in
                var generator = SystemRandomNumberGenerator()
                var datagrams: [[UInt8]] = (0..<1000).map { _ in
                    var packet = [UInt8](repeating: 0, count: 240)
                    packet[0] = 1
                    packet[1] = 1
                    packet[2] = 6
                    for i in 28..<34 { packet[i] = UInt8.random(in: 0...255, using: &generator) }
                    packet[236] = 99
                    packet[237] = 130
                    packet[238] = 83
                    packet[239] = 99
                    return packet + [53, 1, 1, 60, 9] + Array("PXEClient".utf8) + [255]
                }
                datagrams += (0..<200).map { _ in
                    var packet = [UInt8](repeating: 0, count: 240) + [53, 250, 1]
                    for i in 0..<240 { packet[i] = UInt8.random(in: 0...255, using: &generator) }
                    packet[236] = 99
                    packet[237] = 130
                    packet[238] = 83
                    packet[239] = 99
                    return packet
                }
                await gold.sendUDP(datagrams, port: gold.dhcpPort)
                return nil
            }, expected: 0...0),
    ]

    @Test func everyCaseLeavesGoldWhole() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: DurabilityTests.binary), "build the gold executable first")
        let gold = try await HostileGold()
        defer { gold.stop() }
        #expect(try await gold.stillServes(), "the server did not come up: \(gold.dir)/serve.log")
        let before = try await gold.storeSnapshot()
        let eventsBefore = try await gold.request("GET", "/v1/events?newest=1", role: "viewer").text
        var passed = 0
        for hostile in Self.cases {
            let started = ContinuousClock.now
            let status = try await hostile.send(gold)
            let took = ContinuousClock.now - started
            // UDP cases get no answer: give the server a moment with them before asking it anything.
            if status == nil { try await Task.sleep(for: .milliseconds(500)) }
            let whole = try await gold.stillServes()
            let same = try await gold.storeSnapshot() == before
            let answered = status.map { hostile.expected.contains($0) } ?? hostile.expected.contains(0)
            #expect(whole, "\(hostile.name): the server stopped serving")
            #expect(same, "\(hostile.name): machines, profiles or tokens changed")
            #expect(
                answered,
                "\(hostile.name): answered \(status.map(String.init) ?? "nothing"), expected \(hostile.expected)")
            print(
                "hostile input: \(hostile.name) [\(hostile.role ?? "no token")]: \(status.map { "HTTP \($0)" } ?? "no answer (UDP)") in \(took); alive and serving: \(whole && same && answered ? "yes" : "NO")"
            )
            if whole && same && answered { passed += 1 }
            guard whole else { break }
        }
        // The UDP floods are counted, not stored a row each: a few summary events at most.
        let eventsAfter = try await gold.request("GET", "/v1/events?newest=1000", role: "viewer")
        let rows = (try JSONSerialization.jsonObject(with: Data(eventsAfter.body)) as? [[String: Any]]) ?? []
        let firstID =
            ((try JSONSerialization.jsonObject(with: Data(eventsBefore.utf8)) as? [[String: Any]])?.first?["id"] as? Int)
            ?? 0
        let newRows = rows.filter { ($0["id"] as? Int ?? 0) > firstID }
        let fetchRows = newRows.filter { ($0["kind"] as? String ?? "").hasPrefix("boot.fetch") }
        print(
            "hostile input: \(newRows.count) event rows after the cases, \(fetchRows.count) of them boot fetches (2,000 TFTP requests, 1,200 DHCP packets sent)"
        )
        #expect(fetchRows.count < 50)
        print("hostile input: \(passed) of \(Self.cases.count) cases passed")
        #expect(passed == Self.cases.count)
        #expect(Self.cases.count >= 19)
    }

    /// 100 unauthenticated 60 MiB uploads at once to each HTTP port, then 1,000 capture sessions from one agent: the
    /// process's resident memory stays within 200 MiB of idle.
    @Test func memoryStaysBoundedUnderUploads() async throws {
        let gold = try await HostileGold()
        defer { gold.stop() }
        #expect(try await gold.stillServes())
        try await Task.sleep(for: .seconds(1))
        let idle = gold.rssKiB
        let peakBox = PeakBox(idle)
        let sampling = Task {
            while !Task.isCancelled {
                peakBox.note(gold.rssKiB)
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        let ports = [
            (gold.directorPort, "/v1/fleet/validate"), (gold.deployPort, "/v1/fleet/validate"),
            (gold.directorPort, "/v1/agent/commands/c/result"),
        ]
        let started = ContinuousClock.now
        let results = await onThreads(100 * ports.count) { index in
            let (port, path) = ports[index % ports.count]
            return rawUpload(port: port, path: path, declared: 60 << 20)
        }
        let uploadTime = ContinuousClock.now - started
        for _ in 0..<1000 { _ = try await gold.request("POST", "/v1/images/m1/captures", role: "agent") }
        sampling.cancel()
        peakBox.note(gold.rssKiB)
        let peak = peakBox.value
        let refused = results.filter { $0.status == 401 }.count
        let sentMiB = results.map(\.sent).reduce(0, +) >> 20
        print(
            "hostile memory: idle \(idle >> 10) MiB, peak \(peak >> 10) MiB (+\((peak - idle) >> 10) MiB) under \(results.count) unauthenticated 60 MiB uploads "
                + "(\(refused) answered 401, \(sentMiB) MiB went out before the answers, \(uploadTime)) and 1,000 capture sessions"
        )
        #expect(refused == results.count)
        #expect(peak - idle < 200 << 10)
        #expect(try await gold.stillServes())
    }
}

/// The highest value seen, from a sampling task.
final class PeakBox: @unchecked Sendable {
    private let lock = NSLock()
    private var peak: Int
    init(_ start: Int) { peak = start }
    func note(_ value: Int) {
        lock.lock()
        peak = max(peak, value)
        lock.unlock()
    }
    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return peak
    }
}
