import Foundation
import GoldDHCP
import Testing

@Suite("full DHCP responder")
struct ServerResponderTests {
    static let server = IPv4Address(10, 77, 0, 1)
    static let known = MACAddress(Fixtures.qemuMAC)
    static let unknownMAC: [UInt8] = [0x52, 0x54, 0x00, 0x99, 0x99, 0x01]
    static let staticAddress = IPv4Address(10, 77, 0, 50)
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let scriptURL = "http://10.77.0.1:8080/boot/ipxe?mac=${mac:hexhyp}"

    static func settings(pool: ClosedRange<IPv4Address>? = IPv4Address(10, 77, 0, 100)...IPv4Address(10, 77, 0, 101))
        -> DHCPResponderConfiguration.AddressSettings
    {
        .init(
            subnetMask: IPv4Address(255, 255, 255, 0), router: server, dnsServers: [server], domainName: "lab.gold",
            leaseTime: 600, pool: pool)
    }

    static func responder(
        unknown: DHCPResponderConfiguration.UnknownMachines = .discovery,
        pool: ClosedRange<IPv4Address>? = IPv4Address(10, 77, 0, 100)...IPv4Address(10, 77, 0, 101),
        authoritative: Bool = true, leases: [Lease] = []
    ) -> DHCPResponder {
        var settings = settings(pool: pool)
        settings.authoritative = authoritative
        return DHCPResponder(
            configuration: DHCPResponderConfiguration(
                serverAddress: server, mode: .full(settings),
                fleet: [known: FleetMachine(address: staticAddress, hostName: "node1")], unknownMachines: unknown),
            policy: StaticBootPolicy(tftpServer: server, ipxeScriptURL: scriptURL), leases: leases)
    }

    static func request(
        _ type: UInt8, mac: [UInt8] = Fixtures.qemuMAC, requested: IPv4Address? = nil, server: IPv4Address? = nil,
        ciaddr: IPv4Address = .any, extra: [[UInt8]] = []
    ) throws -> DHCPMessage {
        var options = [Fixtures.option(53, [type])]
        if let requested { options.append(Fixtures.option(50, requested.bytes)) }
        if let server { options.append(Fixtures.option(54, server.bytes)) }
        return try DHCPMessage(
            parsing: Fixtures.request(xid: 77, mac: mac, ciaddr: ciaddr.bytes, options: options + extra))
    }

    @Test("udhcpc: static address for a fleet machine, DISCOVER to ACK")
    func staticLease() throws {
        var responder = Self.responder()
        let offer = responder.respond(to: try DHCPMessage(parsing: Fixtures.udhcpcDiscover()), on: .dhcp, now: Self.t0)
        let offered = try #require(offer.reply?.message)
        #expect(offered.messageType == .offer)
        #expect(offered.yiaddr == Self.staticAddress)
        #expect(offer.event.reason == "static address")
        #expect(offered.option(51) == .leaseTime(600))
        #expect(offered.option(1) == .subnetMask(IPv4Address(255, 255, 255, 0)))
        #expect(offered.option(3) == .router([Self.server]))
        #expect(offered.option(28) == .broadcastAddress(IPv4Address(10, 77, 0, 255)))
        #expect(offered.option(12) == .hostName("node1"))
        #expect(offered.option(43) == nil, "no PXE options for an ordinary client")
        #expect(offer.leaseChanges.isEmpty, "offers are not persisted")

        let ack = responder.respond(
            to: try Self.request(3, requested: Self.staticAddress, server: Self.server), on: .dhcp, now: Self.t0)
        #expect(ack.reply?.message.messageType == .ack)
        #expect(ack.reply?.message.yiaddr == Self.staticAddress)
        let lease = Lease(
            mac: Self.known, address: Self.staticAddress, state: .bound, expires: Self.t0.addingTimeInterval(600),
            hostName: "node1")
        #expect(ack.leaseChanges == [.save(lease)])
        #expect(responder.leases.lease(for: Self.known, now: Self.t0) == lease)
    }

    @Test("PXE clients get boot options with their address")
    func pxeInFullMode() throws {
        var responder = Self.responder()
        let offer = responder.respond(
            to: try DHCPMessage(parsing: Fixtures.seabiosIPXEDiscover), on: .dhcp, now: Self.t0)
        let message = try #require(offer.reply?.message)
        #expect(message.yiaddr == Self.staticAddress)
        #expect(message.bootFileName == Self.scriptURL)
        #expect(message.vendorClass == "PXEClient")
        #expect(offer.event.bootfile == Self.scriptURL)
        let bios = responder.respond(to: try DHCPMessage(parsing: Fixtures.biosPXEDiscover), on: .dhcp, now: Self.t0)
        #expect(bios.reply?.message.bootFileName == "undionly.kpxe")
        #expect(bios.reply?.message.siaddr == Self.server)
    }

    @Test("pool addresses for unknown machines until the pool is exhausted")
    func poolExhaustion() throws {
        var responder = Self.responder()
        var given: [IPv4Address] = []
        for last in UInt8(1)...3 {
            let mac: [UInt8] = [0x52, 0x54, 0x00, 0x99, 0x99, last]
            let response = responder.respond(to: try Self.request(1, mac: mac), on: .dhcp, now: Self.t0)
            if let address = response.reply?.message.yiaddr { given.append(address) }
            if last == 3 { #expect(response.event.reason == "address pool exhausted") }
        }
        #expect(given == [IPv4Address(10, 77, 0, 100), IPv4Address(10, 77, 0, 101)])
        // Offers are held only for offerHoldTime; afterwards the third machine gets one.
        let later = Self.t0.addingTimeInterval(61)
        let third = responder.respond(
            to: try Self.request(1, mac: [0x52, 0x54, 0x00, 0x99, 0x99, 3]), on: .dhcp, now: later)
        #expect(third.reply?.message.yiaddr == IPv4Address(10, 77, 0, 100))
    }

    @Test("unknown machines ignored by configuration, or with no pool")
    func unknownIgnored() throws {
        var ignoring = Self.responder(unknown: .ignore)
        #expect(
            ignoring.respond(to: try Self.request(1, mac: Self.unknownMAC), on: .dhcp, now: Self.t0).event.reason
                == "unknown machine")
        var noPool = Self.responder(pool: nil)
        #expect(
            noPool.respond(to: try Self.request(1, mac: Self.unknownMAC), on: .dhcp, now: Self.t0).event.reason
                == "no static address and no pool")
    }

    @Test(
        "REQUEST outcomes",
        arguments: [
            (
                "wrong address for a fleet machine", Fixtures.qemuMAC, IPv4Address(10, 77, 0, 51), IPv4Address?.none,
                true,
                DHCPMessageType?.some(.nak)
            ),
            ("right address, INIT-REBOOT", Fixtures.qemuMAC, IPv4Address(10, 77, 0, 50), nil, true, .ack),
            ("address from another network", unknownMAC, IPv4Address(192, 168, 1, 9), nil, true, .nak),
            ("not authoritative: silent", unknownMAC, IPv4Address(192, 168, 1, 9), nil, false, nil),
            ("free pool address after a restart", unknownMAC, IPv4Address(10, 77, 0, 101), nil, true, .ack),
            ("someone else's static address", unknownMAC, IPv4Address(10, 77, 0, 50), nil, true, .nak),
            (
                "another server selected", Fixtures.qemuMAC, IPv4Address(10, 77, 0, 50), IPv4Address(10, 77, 0, 2),
                true,
                nil
            ),
        ])
    func requestOutcome(
        name: String, mac: [UInt8], requested: IPv4Address, server: IPv4Address?, authoritative: Bool,
        expected: DHCPMessageType?
    ) throws {
        var responder = Self.responder(authoritative: authoritative)
        let response = responder.respond(
            to: try Self.request(3, mac: mac, requested: requested, server: server), on: .dhcp, now: Self.t0)
        #expect(response.reply?.message.messageType == expected, "\(name): \(response.event)")
        if expected == .nak {
            #expect(response.reply?.destination == .clientBroadcast)
            #expect(response.reply?.message.yiaddr == .any)
        }
    }

    @Test("renewing unicasts to ciaddr; RELEASE and DECLINE free the address")
    func renewReleaseDecline() throws {
        var responder = Self.responder()
        let pool = IPv4Address(10, 77, 0, 100)
        _ = responder.respond(to: try Self.request(1, mac: Self.unknownMAC), on: .dhcp, now: Self.t0)
        _ = responder.respond(
            to: try Self.request(3, mac: Self.unknownMAC, requested: pool, server: Self.server), on: .dhcp, now: Self.t0
        )
        let renew = responder.respond(
            to: try Self.request(3, mac: Self.unknownMAC, ciaddr: pool), on: .dhcp, now: Self.t0)
        #expect(renew.reply?.message.messageType == .ack)
        #expect(renew.reply?.destination == .client(pool))

        let release = responder.respond(
            to: try Self.request(7, mac: Self.unknownMAC, server: Self.server, ciaddr: pool), on: .dhcp, now: Self.t0)
        #expect(release.reply == nil)
        #expect(release.leaseChanges == [.remove(MACAddress(Self.unknownMAC))])
        #expect(responder.leases.holder(of: pool, now: Self.t0) == nil)

        _ = responder.respond(
            to: try Self.request(3, mac: Self.unknownMAC, requested: pool, server: Self.server), on: .dhcp, now: Self.t0
        )
        let decline = responder.respond(
            to: try Self.request(4, mac: Self.unknownMAC, requested: pool, server: Self.server), on: .dhcp, now: Self.t0
        )
        #expect(decline.leaseChanges == [.remove(MACAddress(Self.unknownMAC))])
        let next = responder.respond(to: try Self.request(1, mac: Self.unknownMAC), on: .dhcp, now: Self.t0)
        #expect(next.reply?.message.yiaddr == IPv4Address(10, 77, 0, 101), "declined address is quarantined")
    }

    @Test("INFORM gets configuration without an address")
    func inform() throws {
        var responder = Self.responder()
        let response = responder.respond(
            to: try Self.request(8, mac: Self.unknownMAC, ciaddr: IPv4Address(10, 77, 0, 9)), on: .dhcp, now: Self.t0)
        let message = try #require(response.reply?.message)
        #expect(message.messageType == .ack)
        #expect(message.yiaddr == .any)
        #expect(message.option(51) == nil)
        #expect(response.reply?.destination == .client(IPv4Address(10, 77, 0, 9)))
    }

    @Test("leases expire and are removed from the store; a restart keeps them")
    func expiryAndRestart() async throws {
        let store = InMemoryLeaseStore()
        var responder = Self.responder()
        let pool = IPv4Address(10, 77, 0, 100)
        _ = responder.respond(to: try Self.request(1, mac: Self.unknownMAC), on: .dhcp, now: Self.t0)
        let ack = responder.respond(
            to: try Self.request(3, mac: Self.unknownMAC, requested: pool, server: Self.server), on: .dhcp, now: Self.t0
        )
        await store.apply(ack.leaseChanges)

        // Restart: a new responder from the store still gives this machine its address and not to others.
        var restarted = Self.responder(leases: await store.loadLeases())
        let other = restarted.respond(to: try Self.request(1, mac: [2, 0, 0, 0, 0, 1]), on: .dhcp, now: Self.t0)
        #expect(other.reply?.message.yiaddr == IPv4Address(10, 77, 0, 101))
        let again = restarted.respond(to: try Self.request(1, mac: Self.unknownMAC), on: .dhcp, now: Self.t0)
        #expect(again.reply?.message.yiaddr == pool)
        #expect(again.event.reason == "existing lease")

        let expired = restarted.expire(now: Self.t0.addingTimeInterval(601))
        #expect(expired == [.remove(MACAddress(Self.unknownMAC))])
        await store.apply(expired)
        #expect(await store.loadLeases().isEmpty)
    }
}
