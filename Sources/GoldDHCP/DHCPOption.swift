/// One DHCP option (RFC 2132), typed where Gold reads or writes it, raw otherwise.
///
/// A known code whose payload does not have the documented shape is kept as `.unknown` with its bytes,
/// so a client's odd option never makes a request unreadable.
public enum DHCPOption: Hashable, Sendable {
    /// 1: subnet mask (RFC 2132 §3.3).
    case subnetMask(IPv4Address)
    /// 3: routers, in order of preference (RFC 2132 §3.5).
    case router([IPv4Address])
    /// 6: DNS servers (RFC 2132 §3.8).
    case domainNameServer([IPv4Address])
    /// 12: host name (RFC 2132 §3.14).
    case hostName(String)
    /// 15: domain name (RFC 2132 §3.17).
    case domainName(String)
    /// 28: broadcast address (RFC 2132 §5.3).
    case broadcastAddress(IPv4Address)
    /// 43: vendor-specific information; for PXE clients the encapsulated PXE options (RFC 2132 §8.4, PXE 2.1 §2.4).
    case vendorSpecific([UInt8])
    /// 50: requested IP address (RFC 2132 §9.1).
    case requestedIPAddress(IPv4Address)
    /// 51: lease time in seconds (RFC 2132 §9.2).
    case leaseTime(UInt32)
    /// 52: option overload: 1 file, 2 sname, 3 both carry options (RFC 2132 §9.3).
    case overload(UInt8)
    /// 53: DHCP message type (RFC 2132 §9.6).
    case messageType(DHCPMessageType)
    /// 54: server identifier (RFC 2132 §9.7).
    case serverIdentifier(IPv4Address)
    /// 55: parameter request list, option codes (RFC 2132 §9.8).
    case parameterRequestList([UInt8])
    /// 57: maximum DHCP message size, at least 576 (RFC 2132 §9.10).
    case maximumMessageSize(UInt16)
    /// 60: vendor class identifier, e.g. `PXEClient:Arch:00007:UNDI:003016` (RFC 2132 §9.13).
    case vendorClassIdentifier(String)
    /// 61: client identifier, usually hardware type then MAC (RFC 2132 §9.14).
    case clientIdentifier([UInt8])
    /// 66: TFTP server name (RFC 2132 §9.4).
    case tftpServerName(String)
    /// 67: boot file name (RFC 2132 §9.5).
    case bootFileName(String)
    /// 77: user class; iPXE sends the four bytes `iPXE` (RFC 3004, loosely).
    case userClass([UInt8])
    /// 93: client system architectures (RFC 4578 §2.1).
    case clientSystemArchitecture([ClientArchitecture])
    /// 94: client network interface identifier: type (1 = UNDI), major, minor (RFC 4578 §2.2).
    case clientNetworkInterface(type: UInt8, major: UInt8, minor: UInt8)
    /// 97: client machine identifier: type (0 = UUID) then identifier (RFC 4578 §2.3).
    case clientMachineIdentifier(type: UInt8, identifier: [UInt8])
    /// 175: iPXE encapsulated options; their presence marks an iPXE client.
    case ipxeEncapsulated([UInt8])
    /// Any other option, or a known one whose payload was not well formed.
    case unknown(code: UInt8, data: [UInt8])

    /// The option code.
    public var code: UInt8 {
        switch self {
        case .subnetMask: 1
        case .router: 3
        case .domainNameServer: 6
        case .hostName: 12
        case .domainName: 15
        case .broadcastAddress: 28
        case .vendorSpecific: 43
        case .requestedIPAddress: 50
        case .leaseTime: 51
        case .overload: 52
        case .messageType: 53
        case .serverIdentifier: 54
        case .parameterRequestList: 55
        case .maximumMessageSize: 57
        case .vendorClassIdentifier: 60
        case .clientIdentifier: 61
        case .tftpServerName: 66
        case .bootFileName: 67
        case .userClass: 77
        case .clientSystemArchitecture: 93
        case .clientNetworkInterface: 94
        case .clientMachineIdentifier: 97
        case .ipxeEncapsulated: 175
        case .unknown(let code, _): code
        }
    }

    /// The payload as it goes on the wire, without code and length.
    public var data: [UInt8] {
        switch self {
        case .subnetMask(let a), .broadcastAddress(let a), .requestedIPAddress(let a), .serverIdentifier(let a):
            a.bytes
        case .router(let list), .domainNameServer(let list):
            list.flatMap(\.bytes)
        case .hostName(let s), .domainName(let s), .vendorClassIdentifier(let s), .tftpServerName(let s),
            .bootFileName(let s):
            Array(s.utf8)
        case .vendorSpecific(let b), .parameterRequestList(let b), .clientIdentifier(let b), .userClass(let b),
            .ipxeEncapsulated(let b):
            b
        case .leaseTime(let seconds):
            [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: seconds >> $0) }
        case .overload(let value):
            [value]
        case .messageType(let type):
            [type.rawValue]
        case .maximumMessageSize(let size):
            [UInt8(truncatingIfNeeded: size >> 8), UInt8(truncatingIfNeeded: size)]
        case .clientSystemArchitecture(let list):
            list.flatMap { [UInt8(truncatingIfNeeded: $0.rawValue >> 8), UInt8(truncatingIfNeeded: $0.rawValue)] }
        case .clientNetworkInterface(let type, let major, let minor):
            [type, major, minor]
        case .clientMachineIdentifier(let type, let identifier):
            [type] + identifier
        case .unknown(_, let data):
            data
        }
    }

    /// Types the payload of option `code`; falls back to `.unknown` when the payload has the wrong shape.
    public init(code: UInt8, data: [UInt8]) {
        self = DHCPOption.typed(code: code, data: data) ?? .unknown(code: code, data: data)
    }

    private static func typed(code: UInt8, data: [UInt8]) -> DHCPOption? {
        switch code {
        case 1: IPv4Address(bytes: data).map(DHCPOption.subnetMask)
        case 3: addresses(data).map(DHCPOption.router)
        case 6: addresses(data).map(DHCPOption.domainNameServer)
        case 12: text(data).map(DHCPOption.hostName)
        case 15: text(data).map(DHCPOption.domainName)
        case 28: IPv4Address(bytes: data).map(DHCPOption.broadcastAddress)
        case 43: .vendorSpecific(data)
        case 50: IPv4Address(bytes: data).map(DHCPOption.requestedIPAddress)
        case 51: data.count == 4 ? .leaseTime(data.reduce(0) { $0 << 8 | UInt32($1) }) : nil
        case 52: data.count == 1 && (1...3).contains(data[0]) ? .overload(data[0]) : nil
        case 53: data.count == 1 ? DHCPMessageType(rawValue: data[0]).map(DHCPOption.messageType) : nil
        case 54: IPv4Address(bytes: data).map(DHCPOption.serverIdentifier)
        case 55: .parameterRequestList(data)
        case 57: data.count == 2 ? .maximumMessageSize(UInt16(data[0]) << 8 | UInt16(data[1])) : nil
        case 60: text(data).map(DHCPOption.vendorClassIdentifier)
        case 61: .clientIdentifier(data)
        case 66: text(data).map(DHCPOption.tftpServerName)
        case 67: text(data).map(DHCPOption.bootFileName)
        case 77: .userClass(data)
        case 93: architectures(data).map(DHCPOption.clientSystemArchitecture)
        case 94: data.count == 3 ? .clientNetworkInterface(type: data[0], major: data[1], minor: data[2]) : nil
        case 97: data.isEmpty ? nil : .clientMachineIdentifier(type: data[0], identifier: Array(data.dropFirst()))
        case 175: .ipxeEncapsulated(data)
        default: nil
        }
    }

    private static func addresses(_ data: [UInt8]) -> [IPv4Address]? {
        guard !data.isEmpty, data.count % 4 == 0 else { return nil }
        return stride(from: 0, to: data.count, by: 4).compactMap { IPv4Address(bytes: data[$0..<$0 + 4]) }
    }

    private static func architectures(_ data: [UInt8]) -> [ClientArchitecture]? {
        guard !data.isEmpty, data.count % 2 == 0 else { return nil }
        return stride(from: 0, to: data.count, by: 2).map {
            ClientArchitecture(rawValue: UInt16(data[$0]) << 8 | UInt16(data[$0 + 1]))
        }
    }

    /// RFC 2132 strings are NVT ASCII; anything that is not valid UTF-8 stays raw so it round-trips exactly.
    private static func text(_ data: [UInt8]) -> String? {
        guard !data.isEmpty else { return nil }
        return String(validating: data, as: UTF8.self)
    }
}
