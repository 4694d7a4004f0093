import GoldCore
import Logging
import ServiceLifecycle

/// Collects boot fetches and sends them to the director in batches, so a boot storm is a few requests, not thousands.
public actor FetchReporter: Service {
    private let link: DirectorLink
    private let registry: ClientRegistry
    private let logger: Logger
    private var pending: [BootFetchReport] = []

    public init(link: DirectorLink, registry: ClientRegistry, logger: Logger) {
        self.link = link
        self.registry = registry
        self.logger = logger
    }

    public func add(address: String, mac: MACAddress?, file: String, protocolName: String, bytes: Int, outcome: String, duration: Duration) async {
        let known = if let mac { mac } else { await registry.mac(for: address) }
        let milliseconds = Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        pending.append(BootFetchReport(mac: known?.description, address: address, file: file, protocolName: protocolName,
            bytes: bytes, outcome: outcome, durationMilliseconds: milliseconds))
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            await flush()
        }
        await flush()
    }

    func flush() async {
        guard !pending.isEmpty else { return }
        let batch = pending
        pending.removeAll()
        do {
            try await link.reportFetches(batch)
        } catch {
            // Keep them for the next round, bounded so an absent director cannot grow memory without end.
            pending = Array((batch + pending).suffix(10_000))
            logger.warning("cannot report boot fetches to the director; will retry", metadata: ["error": "\(error)"])
        }
    }
}
