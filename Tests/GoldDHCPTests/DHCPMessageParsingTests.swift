import GoldDHCP
import NIOCore
import Testing

@Suite("DHCP message codec")
struct DHCPMessageParsingTests {
    @Test("SeaBIOS iPXE ROM DHCPDISCOVER")
    func seabiosIPXE() throws {
        let message = try DHCPMessage(parsing: Fixtures.seabiosIPXEDiscover)
        #expect(message.op == DHCPMessage.bootRequest)
        #expect(message.xid == 0x2a5c_1f01)
        #expect(message.clientMAC == MACAddress(Fixtures.qemuMAC))
        #expect(message.messageType == .discover)
        #expect(message.vendorClass == "PXEClient:Arch:00000:UNDI:002001")
        #expect(message.clientArchitecture == .x86BIOS)
        #expect(message.isPXEClient)
        #expect(message.isIPXE)
        #expect(message.clientUUID == Fixtures.uuid)
        #expect(message.option(94) == .clientNetworkInterface(type: 1, major: 2, minor: 1))
        #expect(message.option(57) == .maximumMessageSize(1472))
        #expect(message.option(61) == .clientIdentifier([1] + Fixtures.qemuMAC))
        #expect(message.parameterRequestList.contains(175))
        #expect(!message.broadcast)
    }

    @Test("OVMF PXE DHCPDISCOVER")
    func ovmf() throws {
        let message = try DHCPMessage(parsing: Fixtures.ovmfDiscover)
        #expect(message.clientMAC == MACAddress(Fixtures.ovmfMAC))
        #expect(message.broadcast)
        #expect(message.clientArchitecture == .efiBC)
        #expect(message.vendorClass == "PXEClient:Arch:00007:UNDI:003016")
        #expect(message.option(94) == .clientNetworkInterface(type: 1, major: 3, minor: 0))
        #expect(!message.isIPXE)
        #expect(message.option(93) == .clientSystemArchitecture([.efiBC]))
    }

    @Test("option overload carries options in file and sname (RFC 2132 §9.3)")
    func overload() throws {
        var bytes = Fixtures.request(
            xid: 1, mac: Fixtures.qemuMAC, options: [Fixtures.option(53, [1]), Fixtures.option(52, [3])])
        // file starts at 108, sname at 44.
        let fileOptions = Fixtures.option(12, "node7") + [255]
        let snameOptions = Fixtures.option(60, "PXEClient") + [255]
        bytes.replaceSubrange(108..<108 + fileOptions.count, with: fileOptions)
        bytes.replaceSubrange(44..<44 + snameOptions.count, with: snameOptions)
        let message = try DHCPMessage(parsing: bytes)
        #expect(message.hostName == "node7")
        #expect(message.vendorClass == "PXEClient")
        #expect(message.file.isEmpty && message.sname.isEmpty)
        #expect(message.option(52) == .overload(3))
        #expect(try DHCPMessage(parsing: message.encoded()) == message)
    }

    @Test("repeated options are concatenated (RFC 3396)")
    func concatenation() throws {
        let bytes = Fixtures.request(
            xid: 1, mac: Fixtures.qemuMAC,
            options: [Fixtures.option(12, "gold-"), Fixtures.option(53, [3]), Fixtures.option(12, "node1")])
        let message = try DHCPMessage(parsing: bytes)
        #expect(message.hostName == "gold-node1")
        #expect(message.options.map(\.code) == [12, 53])
    }

    @Test("a value longer than 255 bytes is split on encode and joined on parse")
    func longOption() throws {
        let url = "http://10.0.0.1:8080/boot/ipxe?mac=" + String(repeating: "x", count: 400)
        let message = DHCPMessage(op: 2, xid: 9, chaddr: Fixtures.qemuMAC, options: [.bootFileName(url)])
        let parsed = try DHCPMessage(parsing: message.encoded())
        #expect(parsed.option(67) == .bootFileName(url))
    }

    @Test("pads, data after END and padding to 300 bytes")
    func padding() throws {
        let bytes = Fixtures.request(
            xid: 1, mac: Fixtures.qemuMAC,
            options: [[0, 0], Fixtures.option(53, [1]), [255], Fixtures.option(12, "x")])
        let message = try DHCPMessage(parsing: bytes)
        #expect(message.options == [.messageType(.discover)])
        #expect(message.encoded().readableBytes == 300)
    }

    @Test(
        "a known code with a malformed payload is kept raw",
        arguments: [
            ([UInt8](arrayLiteral: 53, 1, 9), DHCPOption.unknown(code: 53, data: [9])),
            ([54, 3, 10, 0, 0], .unknown(code: 54, data: [10, 0, 0])),
            ([93, 3, 0, 7, 1], .unknown(code: 93, data: [0, 7, 1])),
            ([12, 2, 0xff, 0xfe], .unknown(code: 12, data: [0xff, 0xfe])),
            ([97, 0], .unknown(code: 97, data: [])),
            ([200, 2, 1, 2], .unknown(code: 200, data: [1, 2])),
        ])
    func malformedPayload(raw: [UInt8], expected: DHCPOption) throws {
        let message = try DHCPMessage(parsing: Fixtures.request(xid: 1, mac: Fixtures.qemuMAC, options: [raw]))
        #expect(message.options == [expected])
    }

    @Test(
        "every fixture survives encode and parse unchanged",
        arguments: [
            Fixtures.seabiosIPXEDiscover, Fixtures.ovmfDiscover, Fixtures.biosPXEDiscover, Fixtures.ipxeEFIDiscover,
            Fixtures.udhcpcDiscover(), Fixtures.pxeProxyRequest,
        ])
    func roundTrip(bytes: [UInt8]) throws {
        let message = try DHCPMessage(parsing: bytes)
        let again = try DHCPMessage(parsing: message.encoded())
        #expect(again == message)
        // The header bytes are reproduced exactly.
        #expect(Array(message.encoded().readableBytesView.prefix(240)) == Array(bytes.prefix(240)))
    }

    @Test("every typed option survives encode and parse")
    func typedOptions() throws {
        let options: [DHCPOption] = [
            .subnetMask(IPv4Address(255, 255, 255, 0)), .router([IPv4Address(10, 0, 0, 1)]),
            .domainNameServer([IPv4Address(10, 0, 0, 1), IPv4Address(10, 0, 0, 2)]), .hostName("node1"),
            .domainName("lab.gold"), .broadcastAddress(IPv4Address(10, 0, 0, 255)),
            .vendorSpecific(PXEVendorOptions().encoded), .requestedIPAddress(IPv4Address(10, 0, 0, 9)),
            .leaseTime(86400), .messageType(.ack), .serverIdentifier(IPv4Address(10, 0, 0, 1)),
            .parameterRequestList([1, 3, 6]), .maximumMessageSize(1500), .vendorClassIdentifier("PXEClient"),
            .clientIdentifier([1, 2, 3]), .tftpServerName("10.0.0.1"), .bootFileName("undionly.kpxe"),
            .userClass(Array("iPXE".utf8)), .clientSystemArchitecture([.efiX64HTTP]),
            .clientNetworkInterface(type: 1, major: 3, minor: 16),
            .clientMachineIdentifier(type: 0, identifier: Fixtures.uuid), .ipxeEncapsulated([0x13, 1, 1]),
            .unknown(code: 250, data: [1]),
        ]
        let message = DHCPMessage(
            op: 2, xid: 42, flags: 0x8000, yiaddr: IPv4Address(10, 0, 0, 9), siaddr: IPv4Address(10, 0, 0, 1),
            chaddr: Fixtures.qemuMAC, sname: Array("gold".utf8), file: Array("undionly.kpxe".utf8), options: options)
        #expect(try DHCPMessage(parsing: message.encoded()) == message)
    }

    @Test(
        "option 43 discovery control",
        arguments: [
            ([UInt8](arrayLiteral: 6, 1, 8, 255), UInt8?.some(8)),
            ([255], nil),
            ([0, 6, 1, 3], UInt8?.some(3)),
        ])
    func pxeVendorOptions(bytes: [UInt8], control: UInt8?) {
        #expect(PXEVendorOptions(parsing: bytes)?.discoveryControl == control)
    }

    @Test(
        "architecture from the vendor class",
        arguments: [
            ("PXEClient:Arch:00000:UNDI:002001", ClientArchitecture?.some(.x86BIOS)),
            ("PXEClient:Arch:00007:UNDI:003016", .efiBC),
            ("HTTPClient:Arch:00016:UNDI:003001", .efiX64HTTP),
            ("PXEClient", nil),
            ("PXEClient:Arch:7", nil),
        ])
    func architectureFromVendorClass(vendorClass: String, expected: ClientArchitecture?) {
        #expect(ClientArchitecture(vendorClass: vendorClass) == expected)
    }

    @Test(
        "addresses parse and print",
        arguments: [
            ("10.0.0.1", IPv4Address?.some(IPv4Address(10, 0, 0, 1))), ("255.255.255.255", .broadcast),
            ("10.0.0", nil), ("10.0.0.256", nil), ("1.2.3.4.5", nil), ("a.b.c.d", nil), ("", nil), ("+1.2.3.4", nil),
        ])
    func ipv4Text(text: String, expected: IPv4Address?) {
        #expect(IPv4Address(text) == expected)
        if let expected { #expect(expected.description == text) }
    }

    @Test("MAC addresses parse and print")
    func macText() {
        #expect(MACAddress("52:54:00:AB:cd:0f")?.description == "52:54:00:ab:cd:0f")
        #expect(MACAddress("52-54-00-ab-cd-0f")?.hyphenated == "52-54-00-ab-cd-0f")
        #expect(MACAddress("52:54:00:ab:cd") == nil)
        #expect(MACAddress("52:54:00:ab:cd:0g") == nil)
    }
}
