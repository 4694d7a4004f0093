import Foundation
import GoldDHCP
import Testing

@Suite("proxyDHCP responder")
struct ProxyResponderTests {
    static let server = IPv4Address(10, 0, 0, 1)
    static let scriptURL = "http://10.0.0.1:8080/boot/ipxe?mac=${mac:hexhyp}"
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func responder(
        unknown: DHCPResponderConfiguration.UnknownMachines = .discovery, bios: String = "undionly.kpxe"
    )
        -> DHCPResponder
    {
        DHCPResponder(
            configuration: DHCPResponderConfiguration(
                serverAddress: server, mode: .proxy,
                fleet: [MACAddress(Fixtures.qemuMAC): FleetMachine(hostName: "node1")], unknownMachines: unknown),
            policy: StaticBootPolicy(
                tftpServer: server, biosBootFile: bios, uefiBootFile: "snponly.efi",
                httpBootURL: "http://10.0.0.1:8080/ipxe.efi",
                ipxeScriptURL: scriptURL))
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var request: [UInt8]
        var port: DHCPResponder.Port = .dhcp
        var unknown: DHCPResponderConfiguration.UnknownMachines = .discovery
        var bios = "undionly.kpxe"
        var reply: DHCPMessageType?
        var bootfile: String?
        var destination: DHCPDestination = .clientBroadcast
        var reason: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "BIOS PXE ROM gets undionly.kpxe", request: Fixtures.biosPXEDiscover, reply: .offer,
            bootfile: "undionly.kpxe", reason: "netboot"),
        Case(
            name: "BIOS PXE ROM gets pxelinux.0 by policy", request: Fixtures.biosPXEDiscover,
            bios: "pxelinux.0", reply: .offer, bootfile: "pxelinux.0", reason: "netboot"),
        Case(
            name: "iPXE ROM gets the HTTP script", request: Fixtures.seabiosIPXEDiscover, reply: .offer,
            bootfile: scriptURL, reason: "netboot"),
        Case(
            name: "OVMF (unknown) gets snponly.efi for discovery", request: Fixtures.ovmfDiscover, reply: .offer,
            bootfile: "snponly.efi", reason: "discovery netboot"),
        Case(
            name: "fleet machine served while unknown ones are ignored", request: Fixtures.biosPXEDiscover,
            unknown: .ignore, reply: .offer, bootfile: "undionly.kpxe", reason: "netboot"),
        Case(
            name: "unknown OVMF ignored by configuration", request: Fixtures.ovmfDiscover, unknown: .ignore,
            reason: "unknown machine"),
        Case(
            name: "iPXE EFI gets the HTTP script, not ipxe.efi again", request: Fixtures.ipxeEFIDiscover,
            reply: .offer, bootfile: scriptURL, reason: "discovery netboot"),
        Case(name: "udhcpc is not a PXE client", request: Fixtures.udhcpcDiscover(), reason: "not a PXE client"),
        Case(
            name: "port 4011 DHCPREQUEST gets an ACK back to the sender", request: Fixtures.pxeProxyRequest,
            port: .pxe, reply: .ack, bootfile: "snponly.efi", destination: .sender, reason: "discovery netboot"),
        Case(
            name: "port 4011 DHCPDISCOVER is ignored", request: Fixtures.ovmfDiscover, port: .pxe,
            reason: "port 4011 answers only DHCPREQUEST"),
        Case(
            name: "port 67 DHCPREQUEST belongs to the real DHCP server", request: Fixtures.pxeProxyRequest,
            reason: "proxyDHCP answers only DHCPDISCOVER on port 67"),
        Case(
            name: "HTTP boot client gets a URL",
            request: Fixtures.request(
                xid: 3, mac: Fixtures.ovmfMAC,
                options: [
                    Fixtures.option(53, [1]), Fixtures.option(93, [0, 16]),
                    Fixtures.option(60, "HTTPClient:Arch:00016:UNDI:003001"),
                ]),
            reply: .offer, bootfile: "http://10.0.0.1:8080/ipxe.efi", reason: "discovery netboot"),
        Case(
            name: "arm64 UEFI has no boot file in this policy",
            request: Fixtures.request(
                xid: 4, mac: Fixtures.ovmfMAC,
                options: [
                    Fixtures.option(53, [1]), Fixtures.option(93, [0, 11]),
                    Fixtures.option(60, "PXEClient:Arch:00011:UNDI:003000"),
                ]),
            reason: "boot policy: ignore"),
        Case(
            name: "plain BOOTP is not served",
            request: Fixtures.request(xid: 5, mac: Fixtures.qemuMAC, options: [Fixtures.option(60, "PXEClient")]),
            reason: "plain BOOTP is not served"),
    ]

    @Test("decisions", arguments: cases)
    func decision(_ testCase: Case) throws {
        var responder = Self.responder(unknown: testCase.unknown, bios: testCase.bios)
        let request = try DHCPMessage(parsing: testCase.request)
        let response = responder.respond(to: request, on: testCase.port, now: Self.now)
        #expect(response.event.reason == testCase.reason)
        #expect(response.leaseChanges.isEmpty)
        #expect(response.event.mac == request.clientMAC)
        guard let expectedType = testCase.reply else {
            #expect(response.reply == nil)
            #expect(response.event.outcome == .ignored)
            return
        }
        let reply = try #require(response.reply)
        #expect(response.event.outcome == .replied(expectedType))
        #expect(response.event.bootfile == testCase.bootfile)
        #expect(reply.destination == testCase.destination)
        let message = reply.message
        #expect(message.op == DHCPMessage.bootReply)
        #expect(message.xid == request.xid)
        #expect(message.chaddr == request.chaddr)
        #expect(message.flags == request.flags)
        #expect(message.messageType == expectedType)
        #expect(message.yiaddr == .any, "proxyDHCP never gives an address")
        #expect(message.siaddr == Self.server)
        #expect(message.serverIdentifier == Self.server)
        #expect(message.bootFileName == testCase.bootfile)
        if request.isPXEClient {
            #expect(message.vendorClass == "PXEClient")
            #expect(message.option(43) == .vendorSpecific([6, 1, 8, 255]))
        } else {
            #expect(message.vendorClass == "HTTPClient")
        }
        if let uuid = request.clientUUID {
            #expect(message.option(97) == .clientMachineIdentifier(type: 0, identifier: uuid))
        }
        // The reply parses back as it was built.
        #expect(try DHCPMessage(parsing: message.encoded()) == message)
    }

    @Test("option 67 and 66 are added when the client asks for them")
    func requestedBootOptions() throws {
        var responder = Self.responder()
        let request = try DHCPMessage(parsing: Fixtures.ovmfDiscover)
        let message = try #require(responder.respond(to: request, on: .dhcp, now: Self.now).reply?.message)
        #expect(message.option(67) == .bootFileName("snponly.efi"))
        #expect(message.option(66) == .tftpServerName("10.0.0.1"))
    }

    @Test("a boot file too long for the file field goes only in option 67")
    func longBootFile() throws {
        let url = "http://10.0.0.1:8080/boot/" + String(repeating: "a", count: 150)
        var responder = DHCPResponder(
            configuration: DHCPResponderConfiguration(
                serverAddress: Self.server, mode: .proxy, unknownMachines: .discovery),
            policy: StaticBootPolicy(tftpServer: Self.server, ipxeScriptURL: url))
        let request = try DHCPMessage(parsing: Fixtures.seabiosIPXEDiscover)
        let message = try #require(responder.respond(to: request, on: .dhcp, now: Self.now).reply?.message)
        #expect(message.file.isEmpty)
        #expect(message.option(67) == .bootFileName(url))
    }

    @Test("the address another server gives is learnt from the client's requests, never offered by Gold")
    func clientAddressBesideAnotherServer() throws {
        var responder = Self.responder()
        // OVMF takes the network server's offer: a broadcast DHCPREQUEST (SELECTING) naming 10.0.0.140 and that server.
        let selecting = try DHCPMessage(
            parsing: Fixtures.request(
                xid: 0x11, mac: Fixtures.ovmfMAC, flags: 0x8000,
                options: [
                    Fixtures.option(53, [3]), Fixtures.option(50, [10, 0, 0, 140]), Fixtures.option(54, [10, 0, 0, 2]),
                    Fixtures.option(93, [0x00, 0x07]), Fixtures.option(60, "PXEClient:Arch:00007:UNDI:003016"),
                ]))
        let left = responder.respond(to: selecting, on: .dhcp, now: Self.now)
        #expect(left.reply == nil && left.event.outcome == .ignored)
        #expect(left.event.clientAddress == IPv4Address(10, 0, 0, 140) && left.event.offeredAddress == nil)
        #expect(left.event.description.contains("(client at 10.0.0.140)"))
        // A ProxyDHCPREQUEST on 4011 carries the address in ciaddr.
        let acked = responder.respond(to: try DHCPMessage(parsing: Fixtures.pxeProxyRequest), on: .pxe, now: Self.now)
            .event
        #expect(acked.outcome == .replied(.ack))
        #expect(acked.clientAddress == IPv4Address(10, 0, 0, 77) && acked.offeredAddress == nil)
        // A DISCOVER's option 50 is only a wish: no address is learnt from it.
        let wish = try DHCPMessage(parsing: Fixtures.udhcpcDiscover(requested: [10, 0, 0, 99]))
        #expect(wish.requestedIPAddress == IPv4Address(10, 0, 0, 99))
        #expect(responder.respond(to: wish, on: .dhcp, now: Self.now).event.clientAddress == nil)
        let offered = responder.respond(to: try DHCPMessage(parsing: Fixtures.ovmfDiscover), on: .dhcp, now: Self.now)
        #expect(offered.reply != nil && offered.event.clientAddress == nil)
    }

    @Test("relayed requests are answered through the relay")
    func relay() throws {
        var responder = Self.responder()
        var request = try DHCPMessage(parsing: Fixtures.biosPXEDiscover)
        request.giaddr = IPv4Address(10, 9, 0, 1)
        let reply = try #require(responder.respond(to: request, on: .dhcp, now: Self.now).reply)
        #expect(reply.destination == .relay(IPv4Address(10, 9, 0, 1)))
        #expect(reply.message.giaddr == IPv4Address(10, 9, 0, 1))
    }
}
