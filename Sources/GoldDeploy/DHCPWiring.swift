import Foundation
import GoldCore
import GoldDHCP
import GoldDHCPServer
import GoldHTTPClient
import Logging
import ServiceLifecycle

/// The deploy server's DHCP: Gold's responder with the fleet's MACs (and static addresses) from the director,
/// refreshed while it runs, and every request reported as a boot event.
public struct DHCPWiring: Sendable {
    public let server: DHCPServer
    public let sync: FleetSync

    public init(
        config: ServerConfig.DHCPConfig, httpPublicURL: String, leaseFile: String, link: DirectorLink,
        reporter: FetchReporter, logger: Logger
    ) throws {
        guard let serverAddress = config.serverAddress.flatMap({ GoldDHCP.IPv4Address($0.description) }) else {
            throw GoldError(
                .invalidInput, "DHCP needs this server's address on the provisioning network",
                at: "deploy.dhcp.server_address")
        }
        let mode: DHCPResponderConfiguration.Mode
        switch config.mode {
        case .full:
            let pool = config.pool.flatMap { text -> ClosedRange<GoldDHCP.IPv4Address>? in
                let ends = text.split(separator: "-").compactMap { GoldDHCP.IPv4Address($0) }
                return ends.count == 2 ? ends[0]...ends[1] : nil
            }
            mode = .full(
                .init(
                    subnetMask: GoldDHCP.IPv4Address(config.subnetMask?.description ?? "255.255.255.0")!,
                    router: config.router.flatMap { GoldDHCP.IPv4Address($0.description) },
                    dnsServers: config.dns.compactMap { GoldDHCP.IPv4Address($0.description) }, pool: pool))
        default:
            mode = .proxy
        }
        let responder = DHCPResponderConfiguration(
            serverAddress: serverAddress, mode: mode,
            unknownMachines: config.unknown == .discover ? .discovery : .ignore)
        let policy = StaticBootPolicy(
            tftpServer: serverAddress, ipxeScriptURL: httpPublicURL + "/boot/ipxe?mac=${mac:hexhyp}")
        var serverConfig = DHCPServerConfiguration(
            responder: responder, dhcpListener: .bind(host: "0.0.0.0", port: config.port),
            interface: config.interface)
        if case .proxy = mode {
            serverConfig.pxeListener = .bind(host: "0.0.0.0", port: config.port == 67 ? 4011 : config.port + 1)
        }
        server = DHCPServer(
            configuration: serverConfig, policy: policy, leaseStore: FileLeaseStore(path: leaseFile), logger: logger,
            onEvent: { event in
                guard let macText = event.mac?.description, let mac = GoldCore.MACAddress(macText) else { return }
                // Full DHCP: the address Gold gave. proxyDHCP: the one the network's server gave, as the client says.
                reporter.submit(
                    FetchReporter.Fetch(
                        address: event.offeredAddress?.description ?? "0.0.0.0", mac: mac,
                        learned: (event.offeredAddress ?? event.clientAddress)?.description,
                        file: event.bootfile ?? "-", protocolName: "dhcp \(event.requestType.map { "\($0)" } ?? "?")",
                        bytes: 0, outcome: "\(event.outcome)", duration: .zero))
            })
        sync = FleetSync(server: server, base: responder, link: link, logger: logger)
    }
}

/// Keeps the DHCP responder's view of the fleet (MACs, static addresses, host names) in step with the director.
public struct FleetSync: Service {
    let server: DHCPServer
    let base: DHCPResponderConfiguration
    let link: DirectorLink
    let logger: Logger

    public func run() async throws {
        var last: [GoldDHCP.MACAddress: FleetMachine]?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let fleet = try await fetchFleet()
                if fleet != last {
                    var configuration = base
                    configuration.fleet = fleet
                    server.update(configuration: configuration)
                    logger.info("DHCP fleet updated", metadata: ["machines": "\(fleet.count)"])
                    last = fleet
                }
            } catch {
                logger.warning(
                    "cannot read the fleet from the director; DHCP keeps what it has", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(3))
        }
    }

    func fetchFleet() async throws -> [GoldDHCP.MACAddress: FleetMachine] {
        let response = try await HTTPClient.send(
            "GET", link.url + "/v1/machines", headers: [("Authorization", "Bearer \(link.token)")],
            timeout: .seconds(10))
        guard response.status == 200 else { throw GoldError(.unavailable, "the director answered \(response.status)") }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        var fleet: [GoldDHCP.MACAddress: FleetMachine] = [:]
        for machine in try decoder.decode([MachineRecord].self, from: Data(response.body)) {
            let address =
                machine.spec.network.mode == .static
                ? machine.spec.network.address.flatMap { IPv4CIDR($0) }.flatMap {
                    GoldDHCP.IPv4Address($0.address.description)
                } : nil
            for mac in machine.spec.macs {
                guard let key = GoldDHCP.MACAddress(mac.description) else { continue }
                // Only the first NIC takes the static address; the others get pool addresses.
                fleet[key] = FleetMachine(
                    address: mac == machine.spec.macs.first ? address : nil,
                    hostName: machine.spec.network.hostname ?? machine.name)
            }
        }
        return fleet
    }
}
