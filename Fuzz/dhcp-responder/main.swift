import Foundation
import FuzzSupport
import GoldDHCP

/// libFuzzer entry: a conversation with the DHCP responder. The first byte picks the configuration (proxy or full
/// DHCP, unknown machines ignored or booted, a pool of four addresses or none, a fleet machine with a static
/// address); the rest is a script of client messages from eight MACs (built from fields the input chooses, or raw
/// datagrams), on port 67 or 4011, with the clock moving forward. After every answer the fuzzer checks what a
/// network depends on: the reply encodes and parses back to itself, proxyDHCP never gives an address, a full server
/// gives only a configured pool's addresses or the machine's static one, no address is held by two machines, a static address
/// goes to nobody else. A trap is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzScript(Array(UnsafeBufferPointer(start: data, count: size)))
    guard let setup = input.byte() else { return 0 }
    let server = IPv4Address(10, 0, 0, 1)
    let pool = IPv4Address(10, 0, 0, 10)...IPv4Address(10, 0, 0, 13)
    let staticAddress = IPv4Address(10, 0, 0, 50)
    let macs = (0..<8).map { MACAddress(bytes: [0x52, 0x54, 0, 0, 0, UInt8($0)])! }
    let full = setup & 1 != 0
    var fleet: [MACAddress: FleetMachine] = [macs[0]: FleetMachine(hostName: "m0"), macs[1]: FleetMachine()]
    if setup & 8 != 0 { fleet[macs[2]] = FleetMachine(address: staticAddress, hostName: "static") }
    let settings = DHCPResponderConfiguration.AddressSettings(
        subnetMask: IPv4Address(255, 255, 255, 0), router: server, dnsServers: [server], domainName: "lab",
        leaseTime: 600, offerHoldTime: 30, declineQuarantine: 120, pool: setup & 4 != 0 ? pool : nil,
        authoritative: setup & 16 != 0)
    let configuration = DHCPResponderConfiguration(
        serverAddress: server, mode: full ? .full(settings) : .proxy, fleet: fleet,
        unknownMachines: setup & 2 != 0 ? .discovery : .ignore)
    let policy = StaticBootPolicy(
        tftpServer: server, uefiIA32BootFile: "ipxe32.efi", httpBootURL: "http://10.0.0.1/ipxe.efi",
        ipxeScriptURL: "http://10.0.0.1:8080/boot/ipxe?mac=${mac:hexhyp}")
    var responder = DHCPResponder(configuration: configuration, policy: policy)
    var now = Date(timeIntervalSince1970: 1_800_000_000)

    while let operation = input.byte() {
        var request: DHCPMessage?
        var port = DHCPResponder.Port.dhcp
        switch operation % 8 {
        case 0, 1, 2, 3:
            request = input.message(macs: macs, pool: pool, server: server, staticAddress: staticAddress)
        case 4:
            let length = Int(input.byte() ?? 0) * 4
            request = try? DHCPMessage(parsing: input.bytes(length))
        case 5:
            port = .pxe
            request = input.message(macs: macs, pool: pool, server: server, staticAddress: staticAddress)
        case 6:
            now += TimeInterval(input.byte() ?? 0) * 7
        default:
            _ = responder.expire(now: now)
        }
        guard let request else { continue }
        let response = responder.respond(to: request, on: port, now: now)
        check(response, request: request, responder: responder, full: full, pool: setup & 4 != 0 ? pool : nil,
              static: fleet[macs[2]] != nil ? (macs[2], staticAddress) : nil, now: now)
    }
    return 0
}

func check(
    _ response: DHCPResponse, request: DHCPMessage, responder: DHCPResponder, full: Bool,
    pool: ClosedRange<IPv4Address>?, static fixed: (MACAddress, IPv4Address)?, now: Date
) {
    if let reply = response.reply?.message {
        let again: DHCPMessage
        do {
            again = try DHCPMessage(parsing: reply.encoded())
        } catch {
            fatalError("a reply does not parse: \(error)\n\(reply)")
        }
        precondition(again == reply, "a reply changed on the wire:\n\(reply)\n\(again)")
        precondition(reply.op == DHCPMessage.bootReply, "a reply is not a BOOTREPLY")
        precondition(reply.xid == request.xid, "a reply does not echo xid")
        if !full {
            precondition(reply.yiaddr == .any, "proxyDHCP gave an address: \(reply.yiaddr)")
        } else if reply.yiaddr != .any {
            let mac = request.clientMAC
            let isStatic = fixed.map { $0.0 == mac && $0.1 == reply.yiaddr } ?? false
            let inPool = pool?.contains(reply.yiaddr) ?? false
            precondition(inPool || isStatic, "gave \(reply.yiaddr), neither from the pool nor its static address, to \(String(describing: mac))")
        }
    }
    var holders: [IPv4Address: MACAddress] = [:]
    for (mac, lease) in responder.leases.leases {
        precondition(lease.mac == mac, "a lease is filed under another MAC")
        if let other = holders[lease.address] {
            preconditionFailure("\(lease.address) held by \(other) and \(mac)")
        }
        holders[lease.address] = mac
        if let fixed, lease.address == fixed.1 {
            precondition(mac == fixed.0, "the static address \(fixed.1) leased to \(mac)")
        }
        precondition(full, "proxyDHCP keeps leases")
    }
}

extension FuzzScript {
    /// A client message whose fields come from the input: a MAC of eight, a message type (sometimes none or an
    /// unknown one), a requested address and server identifier near the pool, PXE or iPXE or HTTP-boot markings.
    mutating func message(
        macs: [MACAddress], pool: ClosedRange<IPv4Address>, server: IPv4Address, staticAddress: IPv4Address
    ) -> DHCPMessage? {
        guard let a = byte(), let b = byte(), let c = byte() else { return nil }
        let mac = macs[Int(a % 8)]
        var options: [DHCPOption] = []
        if b % 16 != 15 {
            options.append(.messageType(DHCPMessageType(rawValue: b % 8 + 1) ?? .discover))
        }
        let addresses = [pool.lowerBound, pool.upperBound, IPv4Address(value: pool.lowerBound.value + 1), server,
                         staticAddress, IPv4Address(10, 0, 1, 9), .any, .broadcast]
        if b & 0x10 != 0 { options.append(.requestedIPAddress(addresses[Int(c % 8)])) }
        if b & 0x20 != 0 { options.append(.serverIdentifier(c & 0x80 != 0 ? server : addresses[Int((c >> 3) % 8)])) }
        if b & 0x40 != 0 {
            options.append(.vendorClassIdentifier(c & 1 != 0 ? "PXEClient:Arch:00007:UNDI:003016" : "HTTPClient:Arch:00016"))
            options.append(.clientSystemArchitecture([ClientArchitecture(rawValue: UInt16(c % 20))]))
        }
        if b & 0x80 != 0 { options.append(.userClass(Array("iPXE".utf8))) }
        if c & 0x40 != 0 { options.append(.hostName(String(decoding: bytes(Int(c % 8)), as: UTF8.self))) }
        let ciaddr = c & 0x20 != 0 ? addresses[Int((c >> 2) % 8)] : .any
        return DHCPMessage(
            op: a & 0x80 != 0 && a & 0x40 != 0 ? DHCPMessage.bootReply : DHCPMessage.bootRequest,
            hlen: a & 0x20 != 0 && a & 0x10 != 0 ? 8 : 6, xid: UInt32(a) << 8 | UInt32(b), flags: c & 0x10 != 0 ? 0x8000 : 0,
            ciaddr: ciaddr, chaddr: mac.bytes, options: options)
    }
}

