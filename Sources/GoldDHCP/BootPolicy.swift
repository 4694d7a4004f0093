/// What the responder knows about a netbooting client when it asks Gold what to boot.
public struct BootRequest: Hashable, Sendable {
    /// The client's hardware address.
    public var mac: MACAddress
    /// From option 93 or the vendor class; nil when the client sent neither.
    public var architecture: ClientArchitecture?
    /// True when the client is iPXE (option 77 `iPXE` or option 175).
    public var isIPXE: Bool
    /// Option 60 as sent.
    public var vendorClass: String?
    /// Option 97's UUID, 16 bytes, when sent.
    public var clientUUID: [UInt8]?
    /// True when the MAC is in the fleet the responder was configured with.
    public var isKnown: Bool

    /// A request with every field given.
    public init(
        mac: MACAddress, architecture: ClientArchitecture?, isIPXE: Bool, vendorClass: String?,
        clientUUID: [UInt8]?, isKnown: Bool
    ) {
        self.mac = mac
        self.architecture = architecture
        self.isIPXE = isIPXE
        self.vendorClass = vendorClass
        self.clientUUID = clientUUID
        self.isKnown = isKnown
    }
}

/// Gold's answer to "what should this machine boot?".
public enum BootDecision: Hashable, Sendable {
    /// Do not answer this client's netboot request.
    case ignore
    /// Boot `bootfile` from `tftpServer`; an iPXE client is handed `httpScriptURL` instead when it is set.
    case boot(bootfile: String, tftpServer: IPv4Address, httpScriptURL: String?)
}

/// Decides what a netbooting machine boots. The director provides the live implementation.
public protocol BootPolicy: Sendable {
    /// The decision for one request; called on every PXE/iPXE request, so it must be quick and not block.
    func decide(_ request: BootRequest) -> BootDecision
}

/// A fixed policy: one boot file per firmware kind, one iPXE script URL, for tests and simple setups.
public struct StaticBootPolicy: BootPolicy {
    /// The TFTP server put in siaddr.
    public var tftpServer: IPv4Address
    /// Legacy BIOS PXE ROMs (arch 0): `undionly.kpxe`, or `pxelinux.0`.
    public var biosBootFile: String
    /// x86-64 UEFI (arch 7, 9): `ipxe.efi` or `snponly.efi`.
    public var uefiBootFile: String
    /// 32-bit UEFI (arch 6); nil ignores such clients.
    public var uefiIA32BootFile: String?
    /// UEFI HTTP boot (arch 16) wants a URL; nil ignores such clients.
    public var httpBootURL: String?
    /// Handed to iPXE instead of a boot file, so iPXE does not load itself again,
    /// e.g. `http://10.0.0.1:8080/boot/ipxe?mac=${mac:hexhyp}`.
    public var ipxeScriptURL: String?

    /// A policy with the usual iPXE file names.
    public init(
        tftpServer: IPv4Address, biosBootFile: String = "undionly.kpxe", uefiBootFile: String = "ipxe.efi",
        uefiIA32BootFile: String? = nil, httpBootURL: String? = nil, ipxeScriptURL: String? = nil
    ) {
        self.tftpServer = tftpServer
        self.biosBootFile = biosBootFile
        self.uefiBootFile = uefiBootFile
        self.uefiIA32BootFile = uefiIA32BootFile
        self.httpBootURL = httpBootURL
        self.ipxeScriptURL = ipxeScriptURL
    }

    public func decide(_ request: BootRequest) -> BootDecision {
        let architecture = request.architecture ?? .x86BIOS
        let file: String?
        if architecture.isHTTPBoot {
            file = httpBootURL
        } else if architecture.isEFIx64 {
            file = uefiBootFile
        } else if architecture == .efiIA32 {
            file = uefiIA32BootFile
        } else if architecture == .x86BIOS {
            file = biosBootFile
        } else {
            file = nil
        }
        guard let file else { return .ignore }
        return .boot(bootfile: file, tftpServer: tftpServer, httpScriptURL: ipxeScriptURL)
    }
}
