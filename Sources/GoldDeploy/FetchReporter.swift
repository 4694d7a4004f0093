import GoldAPI
import GoldCore
import Logging
import ServiceLifecycle

/// Collects boot fetches and sends them to the director in batches, so a boot storm is a few requests, not thousands.
///
/// What a packet from anyone can add is bounded: fetches no fleet machine can be put down to, and a machine's fetches
/// past `perMachineRate` a minute, are only counted, and reach the director as one summary a minute; file names are
/// cut to 256 bytes; a batch is at most about 1 MiB.
public actor FetchReporter: Service {
    private let link: DirectorLink
    private let registry: ClientRegistry
    private let logger: Logger
    private var pending: [BootFetch] = []
    private var counted = FetchTally()
    private var window: (start: ContinuousClock.Instant, counts: [String: Int]) = (.now, [:])
    private var lastSummary = ContinuousClock.now
    /// Fetches recorded one by one per machine and minute; the rest are counted.
    public let perMachineRate = 120
    static let fileLimit = 256
    static let batchBytes = 1 << 20

    /// Fetches handed over by the TFTP and DHCP servers' callbacks (which cannot await), taken in by ``run()``.
    /// Bounded: in a flood the oldest waiting are dropped, so a packet storm cannot grow memory.
    private let intake: AsyncStream<Fetch>
    private let intakeSink: AsyncStream<Fetch>.Continuation
    static let intakeLimit = 10_000

    /// One fetch as a server saw it. `learned`: the client's address, now known to belong to `mac` (a DHCP exchange).
    public struct Fetch: Sendable {
        public var address: String
        public var mac: MACAddress?
        public var learned: String?
        public var file: String
        public var protocolName: String
        public var bytes: Int
        public var outcome: String
        public var duration: Duration

        public init(
            address: String, mac: MACAddress?, learned: String? = nil, file: String, protocolName: String, bytes: Int,
            outcome: String, duration: Duration
        ) {
            self.address = address
            self.mac = mac
            self.learned = learned
            self.file = file
            self.protocolName = protocolName
            self.bytes = bytes
            self.outcome = outcome
            self.duration = duration
        }
    }

    public init(link: DirectorLink, registry: ClientRegistry, logger: Logger) {
        self.link = link
        self.registry = registry
        self.logger = logger
        (intake, intakeSink) = AsyncStream.makeStream(
            of: Fetch.self, bufferingPolicy: .bufferingNewest(Self.intakeLimit))
    }

    /// For a caller that cannot await (a server's packet callback): queued for ``run()``, never blocking.
    public nonisolated func submit(_ fetch: Fetch) {
        intakeSink.yield(fetch)
    }

    func take(_ fetch: Fetch) async {
        if let learned = fetch.learned, let mac = fetch.mac { await registry.record(address: learned, mac: mac) }
        await add(
            address: fetch.address, mac: fetch.mac, file: fetch.file, protocolName: fetch.protocolName,
            bytes: fetch.bytes, outcome: fetch.outcome, duration: fetch.duration)
    }

    public func add(
        address: String, mac: MACAddress?, file: String, protocolName: String, bytes: Int, outcome: String,
        duration: Duration
    ) async {
        let known = if let mac { mac } else { await registry.mac(for: address) }
        let milliseconds = Int(
            duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        let file =
            file.utf8.count > Self.fileLimit
            ? String(decoding: file.utf8.prefix(Self.fileLimit), as: UTF8.self) + "…" : file
        let now = ContinuousClock.now
        if now - window.start >= .seconds(60) { window = (now, [:]) }
        guard let known, window.counts[known.description, default: 0] < perMachineRate, window.counts.count < 100_000
        else {
            counted.add(address: address, protocolName: protocolName, outcome: outcome, file: file)
            return
        }
        window.counts[known.description, default: 0] += 1
        pending.append(
            BootFetch(
                mac: known.description, address: address, file: file, protocolName: protocolName,
                bytes: bytes, outcome: outcome, durationMilliseconds: milliseconds))
    }

    /// Reports waiting to be sent, and fetches only counted (tests).
    var waiting: [BootFetch] { pending }
    var countedFetches: Int { counted.total }

    /// Takes in submitted fetches and sends batches every 250 ms; on shutdown, what was submitted is sent.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await fetch in self.intake { await self.take(fetch) }
            }
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                await flush()
            }
            intakeSink.finish()
        }
        await flush(summaryDue: true)
    }

    func flush(summaryDue: Bool = false) async {
        if !counted.isEmpty, summaryDue || ContinuousClock.now - lastSummary >= .seconds(60) {
            pending.append(counted.report())
            counted = FetchTally()
            lastSummary = .now
        }
        guard !pending.isEmpty else { return }
        // At most about a megabyte per request; the rest waits for the next round.
        var size = 0
        let count = pending.prefix { entry in
            size +=
                entry.file.utf8.count + entry.protocolName.utf8.count + entry.outcome.utf8.count
                + entry.address.utf8.count + 160
            return size <= Self.batchBytes
        }.count
        let batch = Array(pending.prefix(max(1, count)))
        pending.removeFirst(batch.count)
        do {
            try await link.reportFetches(batch)
        } catch {
            // Keep them for the next round, bounded so an absent director cannot grow memory without end.
            pending = Array((batch + pending).suffix(10_000))
            logger.warning("cannot report boot fetches to the director; will retry", metadata: ["error": "\(error)"])
        }
    }
}

/// Fetches only counted: by protocol and outcome, with how many addresses and one example file each (bounded).
struct FetchTally {
    private var counts: [String: (count: Int, example: String)] = [:]
    private var addresses: Set<String> = []
    private(set) var total = 0

    var isEmpty: Bool { total == 0 }

    mutating func add(address: String, protocolName: String, outcome: String, file: String) {
        total += 1
        if addresses.count < 10_000 { addresses.insert(address) }
        let key = "\(protocolName.prefix(40)) \(outcome.prefix(40))"
        if counts[key] != nil || counts.count < 32 {
            counts[key, default: (0, String(file.prefix(120)))].count += 1
        } else {
            counts["other", default: (0, String(file.prefix(120)))].count += 1
        }
    }

    /// One report the director records as one event.
    func report() -> BootFetch {
        let parts = counts.sorted { $0.value.count > $1.value.count }.map {
            "\($0.key) ×\($0.value.count) (e.g. \($0.value.example))"
        }
        let from =
            addresses.count >= 10_000
            ? "10000 or more addresses" : "\(addresses.count) address\(addresses.count == 1 ? "" : "es")"
        return BootFetch(
            mac: nil, address: "-",
            file:
                "\(total) fetches from \(from) not recorded one by one (no fleet machine, or past the per-minute limit): "
                + parts.joined(separator: "; "), protocolName: "summary", bytes: 0, outcome: "counted",
            durationMilliseconds: 0)
    }
}
