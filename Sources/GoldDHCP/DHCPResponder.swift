#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Gold's DHCP and proxyDHCP logic as a value: a request and `now` in, a reply, an event and lease
/// changes out. No sockets; the adapter sends what it is told and persists the changes.
public struct DHCPResponder: Sendable {
    /// The port a request arrived on.
    public enum Port: Hashable, Sendable {
        /// 67, the DHCP server port (RFC 2131 §4.1).
        case dhcp
        /// 4011, the PXE boot server port a PXE client uses for its ProxyDHCPREQUEST (PXE 2.1 §2.2.4).
        case pxe
    }

    /// Mode, fleet and addressing; replace it to pick up a changed fleet.
    public var configuration: DHCPResponderConfiguration
    /// Decides what netbooting machines boot.
    public var policy: any BootPolicy
    /// Lease state (full DHCP mode).
    public internal(set) var leases: LeaseTable

    /// A responder starting from `leases`, e.g. those a `LeaseStore` returned.
    public init(configuration: DHCPResponderConfiguration, policy: any BootPolicy, leases: [Lease] = []) {
        self.configuration = configuration
        self.policy = policy
        self.leases = LeaseTable(leases: leases)
    }

    /// Decides the answer to one request that arrived on `port` at `now`.
    public mutating func respond(to request: DHCPMessage, on port: Port, now: Date) -> DHCPResponse {
        let expired = leases.expire(now: now)
        var response = decide(request, on: port, now: now)
        response.leaseChanges = expired + response.leaseChanges
        return response
    }

    /// Drops leases that ended by `now`, for a periodic sweep; returns the changes to persist.
    public mutating func expire(now: Date) -> [LeaseChange] {
        leases.expire(now: now)
    }

    private mutating func decide(_ request: DHCPMessage, on port: Port, now: Date) -> DHCPResponse {
        guard request.op == DHCPMessage.bootRequest else {
            return ignore(request, "not a BOOTREQUEST")
        }
        guard let mac = request.clientMAC else {
            return ignore(request, "chaddr is not an Ethernet address (htype \(request.htype), hlen \(request.hlen))")
        }
        guard let type = request.messageType else {
            return ignore(request, "plain BOOTP is not served")
        }
        let isKnown = configuration.fleet[mac] != nil
        if !isKnown, configuration.unknownMachines == .ignore {
            return ignore(request, "unknown machine")
        }
        if port == .pxe {
            return respondOnPXEPort(request, type: type, mac: mac, isKnown: isKnown)
        }
        switch configuration.mode {
        case .proxy:
            return respondAsProxy(request, type: type, mac: mac, isKnown: isKnown)
        case .full(let settings):
            return respondAsServer(request, type: type, mac: mac, isKnown: isKnown, settings: settings, now: now)
        }
    }

    // MARK: - proxyDHCP (PXE 2.1 §2.2.4)

    private func respondAsProxy(_ request: DHCPMessage, type: DHCPMessageType, mac: MACAddress, isKnown: Bool)
        -> DHCPResponse
    {
        guard request.isPXEClient || request.isHTTPClient else {
            return ignore(request, "not a PXE client")
        }
        guard type == .discover else {
            return ignore(request, "proxyDHCP answers only DHCPDISCOVER on port 67")
        }
        return bootReply(request, type: .offer, mac: mac, isKnown: isKnown, destination: destination(for: request))
    }

    /// ProxyDHCPREQUEST on port 4011: a DHCPACK carrying the boot file, back to the sender.
    private func respondOnPXEPort(_ request: DHCPMessage, type: DHCPMessageType, mac: MACAddress, isKnown: Bool)
        -> DHCPResponse
    {
        guard request.isPXEClient || request.isHTTPClient else {
            return ignore(request, "not a PXE client")
        }
        guard type == .request || type == .inform else {
            return ignore(request, "port 4011 answers only DHCPREQUEST")
        }
        var response = bootReply(request, type: .ack, mac: mac, isKnown: isKnown, destination: .sender)
        response.reply?.message.ciaddr = request.ciaddr
        return response
    }

    /// A reply that carries boot information and no address.
    private func bootReply(
        _ request: DHCPMessage, type: DHCPMessageType, mac: MACAddress, isKnown: Bool, destination: DHCPDestination
    ) -> DHCPResponse {
        guard let boot = bootAnswer(for: request, mac: mac, isKnown: isKnown) else {
            return ignore(request, "boot policy: ignore")
        }
        var message = baseReply(to: request, type: type)
        boot.apply(to: &message)
        return DHCPResponse(
            reply: DHCPReply(message: message, destination: destination),
            event: event(
                request, .replied(type), bootfile: boot.file, reason: isKnown ? "netboot" : "discovery netboot"))
    }

    // MARK: - Shared pieces

    /// The boot part of a reply, or nil when the policy ignores the client.
    func bootAnswer(for request: DHCPMessage, mac: MACAddress, isKnown: Bool) -> BootAnswer? {
        let bootRequest = BootRequest(
            mac: mac, architecture: request.clientArchitecture, isIPXE: request.isIPXE,
            vendorClass: request.vendorClass, clientUUID: request.clientUUID, isKnown: isKnown)
        guard case .boot(let bootfile, let tftpServer, let scriptURL) = policy.decide(bootRequest) else { return nil }
        let file = bootRequest.isIPXE ? scriptURL ?? bootfile : bootfile
        return BootAnswer(request: request, file: file, nextServer: tftpServer)
    }

    /// A BOOTREPLY echoing the client's identifying fields (RFC 2131 §4.3.1, table 3).
    func baseReply(to request: DHCPMessage, type: DHCPMessageType) -> DHCPMessage {
        DHCPMessage(
            op: DHCPMessage.bootReply, htype: request.htype, hlen: request.hlen, xid: request.xid,
            flags: request.flags, giaddr: request.giaddr, chaddr: request.chaddr,
            options: [.messageType(type), .serverIdentifier(configuration.serverAddress)])
    }

    /// RFC 2131 §4.1: relay first, then ciaddr, else broadcast. Unicast to a client without an address would
    /// need an ARP entry for yiaddr, which a plain UDP socket cannot add, so such replies are broadcast.
    func destination(for request: DHCPMessage, type: DHCPMessageType = .offer) -> DHCPDestination {
        if !request.giaddr.isUnspecified { return .relay(request.giaddr) }
        if type == .nak { return .clientBroadcast }
        if !request.ciaddr.isUnspecified { return .client(request.ciaddr) }
        return .clientBroadcast
    }

    func ignore(_ request: DHCPMessage, _ reason: String, changes: [LeaseChange] = []) -> DHCPResponse {
        DHCPResponse(reply: nil, event: event(request, .ignored, reason: reason), leaseChanges: changes)
    }

    func event(
        _ request: DHCPMessage, _ outcome: DHCPEvent.Outcome, address: IPv4Address? = nil, bootfile: String? = nil,
        reason: String
    ) -> DHCPEvent {
        DHCPEvent(
            mac: request.clientMAC, requestType: request.messageType, xid: request.xid, outcome: outcome,
            offeredAddress: address, bootfile: bootfile, architecture: request.clientArchitecture,
            isIPXE: request.isIPXE, reason: reason, clientAddress: request.clientAddress)
    }
}

/// The boot fields and options a reply to a netbooting client carries.
struct BootAnswer {
    var request: DHCPMessage
    var file: String
    var nextServer: IPv4Address

    func apply(to message: inout DHCPMessage) {
        message.siaddr = nextServer
        let fileBytes = Array(file.utf8)
        // RFC 2131 §2: file is a NUL-terminated 128-byte field; a longer name goes only in option 67.
        if fileBytes.count < 128 { message.file = fileBytes }
        let wanted = request.parameterRequestList
        if fileBytes.count >= 128 || wanted.contains(67) { message.options.append(.bootFileName(file)) }
        if wanted.contains(66) { message.options.append(.tftpServerName(nextServer.description)) }
        if request.isHTTPClient {
            // UEFI 2.5 §24.7: an HTTP boot offer must carry "HTTPClient" in option 60.
            message.options.append(.vendorClassIdentifier("HTTPClient"))
        } else {
            // PXE 2.1 §2.4.5: "PXEClient" marks a (proxy) boot offer; discovery control 8 makes the ROM
            // download the file named here instead of running boot server discovery or a menu.
            message.options.append(.vendorClassIdentifier("PXEClient"))
            message.options.append(.vendorSpecific(PXEVendorOptions().encoded))
        }
        // PXE 2.1 §2.2.2: replies to a client that sent its UUID echo option 97.
        if case .clientMachineIdentifier(let type, let identifier) = request.option(97) {
            message.options.append(.clientMachineIdentifier(type: type, identifier: identifier))
        }
    }
}
