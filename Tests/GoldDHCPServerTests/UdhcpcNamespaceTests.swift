import Foundation
import GoldDHCP
import GoldDHCPServer
import Logging
import ServiceLifecycle
import Testing

@Suite("DHCP server against busybox udhcpc in network namespaces", .serialized)
struct UdhcpcNamespaceTests {
    @Test("udhcpc gets the fleet's static address over a veth pair, with SO_BINDTODEVICE")
    func udhcpcGetsStaticAddress() async throws {
        if let missing = NetworkNamespaceLab.requirements() {
            Issue.record("udhcpc namespace test \(missing)")
            return
        }
        let lab = NetworkNamespaceLab(tag: "a")
        defer { lab.tearDown() }
        let clientMAC = "52:54:00:de:ad:01"
        try lab.setUp(serverCIDR: "10.199.0.1/24", clientMAC: clientMAC)

        let scriptDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("gold-dhcp-\(getpid())")
        try FileManager.default.createDirectory(at: scriptDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scriptDirectory) }
        let script = scriptDirectory.appendingPathComponent("udhcpc.script")
        // udhcpc passes the lease in the environment; print it instead of configuring the interface.
        try "#!/bin/sh\necho \"event=$1 ip=$ip mask=$subnet router=$router hostname=$hostname lease=$lease\"\n"
            .write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)

        let server = IPv4Address(10, 199, 0, 1)
        let store = InMemoryLeaseStore()
        let events = EventLog()
        let settings = DHCPResponderConfiguration.AddressSettings(
            subnetMask: IPv4Address(255, 255, 255, 0), router: server, leaseTime: 900,
            pool: IPv4Address(10, 199, 0, 100)...IPv4Address(10, 199, 0, 110))
        let dhcp = DHCPServer(
            configuration: DHCPServerConfiguration(
                responder: DHCPResponderConfiguration(
                    serverAddress: server, mode: .full(settings),
                    fleet: [
                        MACAddress(clientMAC)!: FleetMachine(address: IPv4Address(10, 199, 0, 50), hostName: "node1")
                    ]),
                dhcpListener: .socket(try await lab.serverSocket(port: 67)), interface: lab.serverInterface),
            policy: StaticBootPolicy(tftpServer: server), leaseStore: store, onEvent: { events.append($0) })

        let group = ServiceGroup(services: [dhcp], logger: Logger(label: "test"))
        let output = try await withThrowingTaskGroup(of: String?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            _ = try await dhcp.listeningAddresses()
            let output = try await NetworkNamespaceLab.runDetached([
                "ip", "netns", "exec", lab.clientNamespace, "busybox", "udhcpc", "-i", lab.clientInterface, "-n", "-q",
                // Generous retries: the whole suite runs in parallel on two cores.
                "-f", "-t", "10", "-T", "3", "-s", script.path,
            ])
            await group.triggerGracefulShutdown()
            for try await _ in tasks {}
            return output
        }
        #expect(
            output.contains("event=bound ip=10.199.0.50 mask=255.255.255.0 router=10.199.0.1 hostname=node1 lease=900"),
            "\(output)")
        #expect(await store.loadLeases().map(\.address) == [IPv4Address(10, 199, 0, 50)])
        // Under load udhcpc may send DISCOVER or REQUEST again: an offer, and an ack last.
        let outcomes = events.all.map(\.outcome)
        #expect(outcomes.contains(.replied(.offer)) && outcomes.last == .replied(.ack), "\(outcomes)")
    }
}
