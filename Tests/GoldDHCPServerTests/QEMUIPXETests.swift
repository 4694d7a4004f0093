import Foundation
import GoldDHCP
import GoldDHCPServer
import Logging
import ServiceLifecycle
import Testing

@Suite("DHCP server against QEMU's iPXE ROM", .serialized)
struct QEMUIPXETests {
    static let qemu = "/usr/bin/qemu-system-x86_64"
    static let rom = "/usr/lib/ipxe/qemu/pxe-e1000.rom"
    static let mac = "52:54:00:de:ad:02"

    static func requirements() -> String? {
        if let missing = NetworkNamespaceLab.requirements() { return missing }
        guard FileManager.default.isExecutableFile(atPath: qemu), FileManager.default.fileExists(atPath: rom) else {
            return "needs \(qemu) and \(rom): Debian packages qemu-system-x86, ipxe-qemu"
        }
        return nil
    }

    @Test("SeaBIOS + iPXE ROM: static address and the HTTP script URL in full DHCP mode")
    func ipxeFullMode() async throws {
        if let missing = Self.requirements() {
            Issue.record("QEMU iPXE test \(missing)")
            return
        }
        let lab = NetworkNamespaceLab(tag: "q")
        defer { lab.tearDown() }
        try lab.setUp(serverCIDR: "10.198.0.1/24", clientMAC: "52:54:00:00:00:fe")
        let tap = "gdt\(getpid() % 100_000)"
        try lab.addClientTap(tap)

        let server = IPv4Address(10, 198, 0, 1)
        let scriptURL = "http://10.198.0.1:8080/boot/ipxe?mac=${mac:hexhyp}"
        let (events, sink) = AsyncStream.makeStream(of: DHCPEvent.self)
        let dhcp = DHCPServer(
            configuration: DHCPServerConfiguration(
                responder: DHCPResponderConfiguration(
                    serverAddress: server,
                    mode: .full(.init(subnetMask: IPv4Address(255, 255, 255, 0), leaseTime: 600)),
                    fleet: [MACAddress(Self.mac)!: FleetMachine(address: IPv4Address(10, 198, 0, 60))]),
                dhcpListener: .socket(try await lab.serverSocket(port: 67)), interface: lab.serverInterface),
            policy: StaticBootPolicy(tftpServer: server, ipxeScriptURL: scriptURL),
            onEvent: { sink.yield($0) })

        let seen = try await Self.boot(
            lab: lab, tap: tap, server: dhcp, onExit: { sink.finish() },
            until: {
                var seen: [DHCPEvent] = []
                for await event in events {
                    seen.append(event)
                    if event.outcome == .replied(.ack) { break }
                }
                return seen
            })
        let answered = seen.filter { $0.outcome != .ignored }
        // A slow guest may send DISCOVER again before it takes an OFFER: offers, then the one ACK.
        #expect(answered.first?.outcome == .replied(.offer) && answered.last?.outcome == .replied(.ack), "\(seen)")
        #expect(answered.dropLast().allSatisfy { $0.outcome == .replied(.offer) }, "\(seen)")
        #expect(answered.allSatisfy { $0.isIPXE && $0.bootfile == scriptURL && $0.architecture == .x86BIOS })
        #expect(answered.last?.offeredAddress == IPv4Address(10, 198, 0, 60))
    }

    @Test("proxyDHCP beside busybox udhcpd: iPXE takes udhcpd's address and fetches Gold's script URL")
    func ipxeProxyMode() async throws {
        if let missing = Self.requirements() {
            Issue.record("QEMU iPXE test \(missing)")
            return
        }
        let lab = NetworkNamespaceLab(tag: "p")
        defer { lab.tearDown() }
        try lab.setUp(serverCIDR: "10.198.1.1/24", clientMAC: "52:54:00:00:00:fd")
        // Gold has its own address beside the network's DHCP server.
        try NetworkNamespaceLab.run([
            "ip", "-n", lab.serverNamespace, "addr", "add", "10.198.1.2/24", "dev", lab.serverInterface,
        ])
        let tap = "gdt\(getpid() % 100_000)"
        try lab.addClientTap(tap)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gold-udhcpd-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("udhcpd.conf")
        try """
        start 10.198.1.100
        end 10.198.1.110
        interface \(lab.serverInterface)
        lease_file \(directory.path)/udhcpd.leases
        pidfile \(directory.path)/udhcpd.pid
        option subnet 255.255.255.0
        option lease 600

        """.write(to: config, atomically: true, encoding: .utf8)
        let udhcpd = Process()
        udhcpd.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        udhcpd.arguments = ["ip", "netns", "exec", lab.serverNamespace, "busybox", "udhcpd", "-f", config.path]
        udhcpd.standardOutput = FileHandle.nullDevice
        udhcpd.standardError = FileHandle.nullDevice
        try udhcpd.run()
        defer { if udhcpd.isRunning { kill(udhcpd.processIdentifier, SIGKILL) } }

        // Stands in for Gold's HTTP server: records the script request iPXE makes.
        let http = try await lab.serverSocket(port: 8080, stream: true)
        let gold = IPv4Address(10, 198, 1, 2)
        let scriptURL = "http://10.198.1.2:8080/boot/ipxe?mac=${mac:hexhyp}"
        let events = EventLog()
        let dhcp = DHCPServer(
            configuration: DHCPServerConfiguration(
                responder: DHCPResponderConfiguration(
                    serverAddress: gold, mode: .proxy, fleet: [MACAddress(Self.mac)!: FleetMachine()]),
                dhcpListener: .socket(try await lab.serverSocket(port: 67)),
                pxeListener: .socket(try await lab.serverSocket(port: 4011)), interface: lab.serverInterface),
            policy: StaticBootPolicy(tftpServer: gold, ipxeScriptURL: scriptURL),
            onEvent: { events.append($0) })

        let requestLine = try await Self.boot(
            lab: lab, tap: tap, server: dhcp, onExit: { shutdown(http, 2) },
            until: {
                await NetworkNamespaceLab.firstRequestLine(on: http)
            })
        close(http)
        #expect(requestLine == "GET /boot/ipxe?mac=52-54-00-de-ad-02 HTTP/1.1", "\(events.all)")
        let answered = events.all.filter { $0.outcome != .ignored }
        #expect(answered.first?.outcome == .replied(.offer))
        #expect(answered.allSatisfy { $0.isIPXE && $0.bootfile == scriptURL && $0.offeredAddress == nil })
        // The network's server, not Gold, gave the address: iPXE's DHCPREQUEST on port 67 was left to udhcpd.
        #expect(events.all.contains { $0.requestType == .request && $0.outcome == .ignored })
    }

    /// Boots QEMU's iPXE ROM on `tap` with `server` running until `until` returns; `onExit` runs when the
    /// machine stops, and must make `until` return if it is still waiting.
    static func boot<Result: Sendable>(
        lab: NetworkNamespaceLab, tap: String, server: DHCPServer, onExit: @escaping @Sendable () -> Void,
        until: @escaping @Sendable () async -> Result
    ) async throws -> Result {
        let machine = Process()
        machine.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        machine.arguments = [
            "ip", "netns", "exec", lab.clientNamespace, qemu, "-accel", "tcg", "-m", "128", "-display", "none",
            "-serial", "null", "-monitor", "none", "-no-reboot", "-boot", "n",
            "-netdev", "tap,id=n0,ifname=\(tap),script=no,downscript=no",
            "-device", "e1000,netdev=n0,mac=\(mac),romfile=\(rom)",
        ]
        machine.standardOutput = FileHandle.nullDevice
        machine.standardError = FileHandle.nullDevice
        let (exited, exitSink) = AsyncStream.makeStream(of: Never.self)
        machine.terminationHandler = { _ in
            onExit()
            exitSink.finish()
        }
        // QEMU inherits a signal mask with SIGTERM blocked from the test's threads: stop the VM with SIGKILL.
        let stopMachine = { @Sendable in
            if machine.isRunning { kill(machine.processIdentifier, SIGKILL) }
        }

        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            _ = try await server.listeningAddresses()
            try machine.run()
            // A safety net, not a timing assertion: a machine that never gets there is stopped so the
            // test fails instead of hanging. Under TCG iPXE reaches DHCP in a few seconds.
            tasks.addTask {
                try? await Task.sleep(for: .seconds(240))
                if !Task.isCancelled { stopMachine() }
            }
            let result = await until()
            stopMachine()
            for await _ in exited {}
            await group.triggerGracefulShutdown()
            tasks.cancelAll()
            return result
        }
    }
}
