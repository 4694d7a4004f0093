/// Typed reads of the options Gold's responder looks at.
extension DHCPMessage {
    /// The first option with `code`, if any.
    public func option(_ code: UInt8) -> DHCPOption? {
        options.first { $0.code == code }
    }

    /// Option 53, or nil for plain BOOTP or a malformed value.
    public var messageType: DHCPMessageType? {
        if case .messageType(let type) = option(53) { return type }
        return nil
    }

    /// Option 54.
    public var serverIdentifier: IPv4Address? {
        if case .serverIdentifier(let address) = option(54) { return address }
        return nil
    }

    /// Option 50.
    public var requestedIPAddress: IPv4Address? {
        if case .requestedIPAddress(let address) = option(50) { return address }
        return nil
    }

    /// The address the client holds (ciaddr) or is taking from a server: option 50 of a DHCPREQUEST, which in the
    /// SELECTING and INIT-REBOOT states carries it there (RFC 2131 §4.3.2). Nil for a DISCOVER, whose option 50 is
    /// only a wish.
    public var clientAddress: IPv4Address? {
        if !ciaddr.isUnspecified { return ciaddr }
        return messageType == .request ? requestedIPAddress : nil
    }

    /// Option 60 as text.
    public var vendorClass: String? {
        if case .vendorClassIdentifier(let text) = option(60) { return text }
        return nil
    }

    /// Option 12 as text.
    public var hostName: String? {
        if case .hostName(let text) = option(12) { return text }
        return nil
    }

    /// Option 55.
    public var parameterRequestList: [UInt8] {
        if case .parameterRequestList(let codes) = option(55) { return codes }
        return []
    }

    /// The client's architecture: the first entry of option 93 (RFC 4578 §2.1), else the `Arch:` field of a
    /// PXE vendor class, else nil.
    public var clientArchitecture: ClientArchitecture? {
        if case .clientSystemArchitecture(let list) = option(93), let first = list.first { return first }
        return vendorClass.flatMap(ClientArchitecture.init(vendorClass:))
    }

    /// Option 97 when it carries a UUID (type 0, 16 bytes, RFC 4578 §2.3).
    public var clientUUID: [UInt8]? {
        if case .clientMachineIdentifier(0, let identifier) = option(97), identifier.count == 16 { return identifier }
        return nil
    }

    /// True when the vendor class marks a PXE ROM or iPXE (`PXEClient...`, PXE 2.1 §2.4.1).
    public var isPXEClient: Bool { vendorClass?.hasPrefix("PXEClient") ?? false }

    /// True when the vendor class marks a UEFI HTTP boot client (`HTTPClient...`, UEFI 2.5 §24.7).
    public var isHTTPClient: Bool { vendorClass?.hasPrefix("HTTPClient") ?? false }

    /// True when iPXE sent the request: user class `iPXE` (option 77) or iPXE's option 175.
    public var isIPXE: Bool {
        if option(175) != nil { return true }
        guard case .userClass(let bytes) = option(77) else { return false }
        // iPXE sends the bare string; an RFC 3004 client would length-prefix it.
        return bytes == Array("iPXE".utf8) || bytes == [4] + Array("iPXE".utf8)
    }
}
