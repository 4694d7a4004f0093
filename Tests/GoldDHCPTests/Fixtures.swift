import GoldDHCP

/// Byte-level packet fixtures, laid out by hand (RFC 2131 §2 figure 1) rather than with the codec under test.
enum Fixtures {
    static let qemuMAC: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
    static let ovmfMAC: [UInt8] = [0x52, 0x54, 0x00, 0xab, 0xcd, 0xef]
    static let uuid: [UInt8] = [
        0x8e, 0x2a, 0x41, 0x7c, 0x03, 0x1b, 0x4f, 0x55, 0x9a, 0x3e, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
    ]

    /// A client datagram: header, magic cookie, the given raw options, END.
    static func request(
        xid: UInt32, mac: [UInt8], flags: UInt16 = 0, ciaddr: [UInt8] = [0, 0, 0, 0], giaddr: [UInt8] = [0, 0, 0, 0],
        options: [[UInt8]], end: Bool = true
    ) -> [UInt8] {
        var bytes: [UInt8] = [1, 1, 6, 0]  // op BOOTREQUEST, htype Ethernet, hlen 6, hops 0
        bytes += [UInt8(xid >> 24), UInt8(xid >> 16 & 0xff), UInt8(xid >> 8 & 0xff), UInt8(xid & 0xff)]
        bytes += [0, 4]  // secs
        bytes += [UInt8(flags >> 8), UInt8(flags & 0xff)]
        bytes += ciaddr + [0, 0, 0, 0] + [0, 0, 0, 0] + giaddr  // ciaddr yiaddr siaddr giaddr
        bytes += mac + [UInt8](repeating: 0, count: 10)  // chaddr
        bytes += [UInt8](repeating: 0, count: 64 + 128)  // sname, file
        bytes += [99, 130, 83, 99]
        for option in options { bytes += option }
        if end { bytes.append(255) }
        return bytes
    }

    static func option(_ code: UInt8, _ data: [UInt8]) -> [UInt8] { [code, UInt8(data.count)] + data }
    static func option(_ code: UInt8, _ text: String) -> [UInt8] { option(code, Array(text.utf8)) }

    /// QEMU's iPXE NIC ROM under SeaBIOS: iPXE identifies itself with option 77 and 175.
    static let seabiosIPXEDiscover = request(
        xid: 0x2a5c_1f01, mac: qemuMAC,
        options: [
            option(53, [1]),
            option(57, [0x05, 0xc0]),
            option(93, [0x00, 0x00]),
            option(94, [1, 2, 1]),
            option(60, "PXEClient:Arch:00000:UNDI:002001"),
            option(77, "iPXE"),
            option(
                55, [1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 129, 130, 131, 132, 133, 134, 135, 175, 203]),
            option(
                175,
                [
                    0xb1, 0x05, 0x01, 0x80, 0x86, 0x10, 0x0e, 0xeb, 0x03, 0x01, 0x00, 0x00, 0x17, 0x01, 0x01,
                    0x13, 0x01, 0x01, 0x11, 0x01, 0x01, 0x27, 0x01, 0x01, 0x19, 0x01, 0x01, 0x10, 0x01, 0x02,
                    0x21, 0x01, 0x01, 0x15, 0x01, 0x01, 0x18, 0x01, 0x01, 0x12, 0x01, 0x01,
                ]),
            option(61, [1] + qemuMAC),
            option(97, [0] + uuid),
        ])

    /// OVMF's own PXE (EFI BC, arch 7) with no iPXE in the way.
    static let ovmfDiscover = request(
        xid: 0x7d3b_9a02, mac: ovmfMAC, flags: 0x8000,
        options: [
            option(53, [1]),
            option(57, [0x05, 0xdc]),
            option(
                55,
                [
                    1, 2, 3, 4, 5, 6, 12, 13, 15, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51, 54, 58, 59, 60, 66,
                    67, 97, 128, 129, 130, 131, 132, 133, 134, 135,
                ]),
            option(97, [0] + uuid),
            option(94, [1, 3, 0]),
            option(93, [0x00, 0x07]),
            option(60, "PXEClient:Arch:00007:UNDI:003016"),
        ])

    /// A legacy BIOS PXE ROM (not iPXE): arch 0, UNDI 2.1, no user class.
    static let biosPXEDiscover = request(
        xid: 0x0000_0b10, mac: qemuMAC,
        options: [
            option(53, [1]),
            option(57, [0x04, 0xec]),
            option(
                55,
                [
                    1, 2, 3, 5, 6, 11, 12, 13, 15, 16, 17, 18, 43, 54, 60, 67, 128, 129, 130, 131, 132, 133, 134,
                    135,
                ]),
            option(97, [0] + uuid),
            option(94, [1, 2, 1]),
            option(93, [0x00, 0x00]),
            option(60, "PXEClient:Arch:00000:UNDI:002001"),
        ])

    /// iPXE built for EFI (ipxe.efi / snponly.efi) asking again after it was loaded.
    static let ipxeEFIDiscover = request(
        xid: 0x1111_2222, mac: ovmfMAC,
        options: [
            option(53, [1]),
            option(93, [0x00, 0x07]),
            option(60, "PXEClient:Arch:00007:UNDI:003010"),
            option(77, "iPXE"),
            option(175, [0x13, 0x01, 0x01]),
        ])

    /// busybox udhcpc, an ordinary client.
    static func udhcpcDiscover(mac: [UInt8] = qemuMAC, requested: [UInt8]? = nil) -> [UInt8] {
        var options = [option(53, [1]), option(61, [1] + mac)]
        if let requested { options.append(option(50, requested)) }
        options += [option(57, [0x02, 0x40]), option(60, "udhcp 1.35.0"), option(55, [1, 3, 6, 12, 15, 28, 42])]
        return request(xid: 0xabad_cafe, mac: mac, options: options)
    }

    /// A ProxyDHCPREQUEST to port 4011 from a client that already has an address.
    static let pxeProxyRequest = request(
        xid: 0x7d3b_9a03, mac: ovmfMAC, ciaddr: [10, 0, 0, 77],
        options: [
            option(53, [3]),
            option(93, [0x00, 0x07]),
            option(97, [0] + uuid),
            option(60, "PXEClient:Arch:00007:UNDI:003016"),
        ])
}

extension MACAddress {
    init(_ bytes: [UInt8]) {
        self = MACAddress(bytes: bytes)!
    }
}
