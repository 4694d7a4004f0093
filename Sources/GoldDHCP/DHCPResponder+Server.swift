#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Full DHCP mode: the only DHCP server of an isolated provisioning network (RFC 2131 §4.3).
extension DHCPResponder {
    mutating func respondAsServer(
        _ request: DHCPMessage, type: DHCPMessageType, mac: MACAddress, isKnown: Bool,
        settings: DHCPResponderConfiguration.AddressSettings, now: Date
    ) -> DHCPResponse {
        // A netbooting client the policy turns away gets no address either, so its ROM moves on to the disk.
        var boot: BootAnswer?
        let configures = type == .discover || type == .request || type == .inform
        if configures, request.isPXEClient || request.isHTTPClient {
            guard let answer = bootAnswer(for: request, mac: mac, isKnown: isKnown) else {
                return ignore(request, "boot policy: ignore")
            }
            boot = answer
        }
        switch type {
        case .discover:
            return offer(request, mac: mac, isKnown: isKnown, boot: boot, settings: settings, now: now)
        case .request:
            return acknowledge(request, mac: mac, isKnown: isKnown, boot: boot, settings: settings, now: now)
        case .decline:
            // RFC 2131 §4.3.3: the client found the address in use; keep it out of circulation.
            guard request.serverIdentifier == configuration.serverAddress, let address = request.requestedIPAddress
            else { return ignore(request, "DHCPDECLINE not addressed to this server") }
            let until = now.addingTimeInterval(TimeInterval(settings.declineQuarantine))
            return ignore(request, "declined \(address)", changes: leases.decline(address, by: mac, until: until))
        case .release:
            // RFC 2131 §4.3.4.
            guard request.serverIdentifier == nil || request.serverIdentifier == configuration.serverAddress else {
                return ignore(request, "DHCPRELEASE for another server")
            }
            return ignore(request, "released \(request.ciaddr)", changes: leases.release(mac, address: request.ciaddr))
        case .inform:
            // RFC 2131 §4.3.5: configuration only, no address, no lease time, unicast to ciaddr.
            var message = baseReply(to: request, type: .ack)
            message.ciaddr = request.ciaddr
            message.options += addressOptions(settings, mac: mac, leaseTime: nil)
            boot?.apply(to: &message)
            return DHCPResponse(
                reply: DHCPReply(message: message, destination: destination(for: request, type: .ack)),
                event: event(request, .replied(.ack), bootfile: boot?.file, reason: "configuration only"))
        case .offer, .ack, .nak:
            return ignore(request, "\(type) is a server message")
        }
    }

    private mutating func offer(
        _ request: DHCPMessage, mac: MACAddress, isKnown: Bool, boot: BootAnswer?,
        settings: DHCPResponderConfiguration.AddressSettings, now: Date
    ) -> DHCPResponse {
        let choice = chooseAddress(for: mac, requested: request.requestedIPAddress, settings: settings, now: now)
        guard let address = choice.address else { return ignore(request, choice.reason) }
        let hostName = configuration.fleet[mac]?.hostName ?? request.hostName
        let hold = now.addingTimeInterval(TimeInterval(settings.offerHoldTime))
        let changes = leases.offer(address, to: mac, until: hold, hostName: hostName, now: now)
        var message = baseReply(to: request, type: .offer)
        message.yiaddr = address
        message.options += addressOptions(settings, mac: mac, leaseTime: settings.leaseTime)
        boot?.apply(to: &message)
        return DHCPResponse(
            reply: DHCPReply(message: message, destination: destination(for: request)),
            event: event(request, .replied(.offer), address: address, bootfile: boot?.file, reason: choice.reason),
            leaseChanges: changes)
    }

    private mutating func acknowledge(
        _ request: DHCPMessage, mac: MACAddress, isKnown: Bool, boot: BootAnswer?,
        settings: DHCPResponderConfiguration.AddressSettings, now: Date
    ) -> DHCPResponse {
        if let server = request.serverIdentifier, server != configuration.serverAddress {
            // RFC 2131 §4.3.2: SELECTING a different server's offer; ours can go back to the pool.
            let changes = leases.lease(for: mac, now: now)?.state == .offered ? leases.release(mac) : []
            return ignore(request, "client selected server \(server)", changes: changes)
        }
        let wanted = request.requestedIPAddress ?? request.ciaddr
        guard !wanted.isUnspecified else { return ignore(request, "DHCPREQUEST names no address") }
        guard isAcceptable(wanted, for: mac, settings: settings, now: now) else {
            let knowsClient =
                request.serverIdentifier != nil || leases.lease(for: mac, now: now) != nil
                || configuration.fleet[mac]?.address != nil
            guard settings.authoritative || knowsClient else {
                return ignore(request, "no record of \(wanted) for this client")
            }
            var message = baseReply(to: request, type: .nak)
            message.flags = request.flags
            return DHCPResponse(
                reply: DHCPReply(message: message, destination: destination(for: request, type: .nak)),
                event: event(request, .replied(.nak), reason: "\(wanted) is not this client's address"))
        }
        let hostName = configuration.fleet[mac]?.hostName ?? request.hostName
        let until = now.addingTimeInterval(TimeInterval(settings.leaseTime))
        let changes = leases.bind(wanted, to: mac, until: until, hostName: hostName)
        var message = baseReply(to: request, type: .ack)
        message.ciaddr = request.ciaddr
        message.yiaddr = wanted
        message.options += addressOptions(settings, mac: mac, leaseTime: settings.leaseTime)
        boot?.apply(to: &message)
        return DHCPResponse(
            reply: DHCPReply(message: message, destination: destination(for: request, type: .ack)),
            event: event(request, .replied(.ack), address: wanted, bootfile: boot?.file, reason: "lease bound"),
            leaseChanges: changes)
    }

    /// The address to offer: the fleet's static one, the current lease, the requested one, or a free one.
    private func chooseAddress(
        for mac: MACAddress, requested: IPv4Address?, settings: DHCPResponderConfiguration.AddressSettings, now: Date
    ) -> (address: IPv4Address?, reason: String) {
        if let reserved = configuration.fleet[mac]?.address {
            guard leases.isAvailable(reserved, for: mac, now: now) else {
                return (nil, "static address \(reserved) is held by another machine")
            }
            return (reserved, "static address")
        }
        if let current = leases.lease(for: mac, now: now) { return (current.address, "existing lease") }
        guard let pool = settings.pool else { return (nil, "no static address and no pool") }
        if let requested, isAcceptable(requested, for: mac, settings: settings, now: now) {
            return (requested, "requested address")
        }
        guard let free = leases.freeAddress(in: pool, for: mac, excluding: unavailableForPool, now: now) else {
            return (nil, "address pool exhausted")
        }
        return (free, "pool address")
    }

    /// True when `address` is the one this server gives `mac` or may give it.
    private func isAcceptable(
        _ address: IPv4Address, for mac: MACAddress, settings: DHCPResponderConfiguration.AddressSettings, now: Date
    ) -> Bool {
        if let reserved = configuration.fleet[mac]?.address {
            return address == reserved && leases.isAvailable(address, for: mac, now: now)
        }
        if let current = leases.lease(for: mac, now: now), current.address == address { return true }
        guard let pool = settings.pool, pool.contains(address), !unavailableForPool.contains(address) else {
            return false
        }
        return leases.isAvailable(address, for: mac, now: now)
    }

    /// Addresses never handed out from the pool: the server's own and every static one.
    private var unavailableForPool: Set<IPv4Address> {
        Set(configuration.fleet.values.compactMap(\.address)).union([configuration.serverAddress])
    }

    private func addressOptions(
        _ settings: DHCPResponderConfiguration.AddressSettings, mac: MACAddress, leaseTime: UInt32?
    ) -> [DHCPOption] {
        var options: [DHCPOption] = []
        if let leaseTime { options.append(.leaseTime(leaseTime)) }
        options.append(.subnetMask(settings.subnetMask))
        if let router = settings.router { options.append(.router([router])) }
        if !settings.dnsServers.isEmpty { options.append(.domainNameServer(settings.dnsServers)) }
        if let domain = settings.domainName, !domain.isEmpty { options.append(.domainName(domain)) }
        let mask = settings.subnetMask.value
        options.append(.broadcastAddress(IPv4Address(value: configuration.serverAddress.value & mask | ~mask)))
        if let hostName = configuration.fleet[mac]?.hostName, !hostName.isEmpty { options.append(.hostName(hostName)) }
        return options
    }
}
