import Foundation
import GoldCore
import GoldDirector
import GoldHTTPClient
import GoldRunner
import GoldSQLite
import GoldWorkflow
import Logging
import Prometheus
import ServiceLifecycle

/// The director at fleet scale: a fresh SQLite store with `machines` machines, `inFlight` provision workflows run by the
/// real `WorkflowRunner` behind the real HTTP API on 127.0.0.1, simulated machines and agents answering it; while they
/// run, `GET /v1/machines` (what `gold machine list` calls) is timed, and so is every step transition.
public enum ScaleBenchmark {
    public static func run(
        _ config: ScaleConfiguration, registry: PrometheusCollectorRegistry,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> ScaleReport {
        try config.validate()
        let wallStart = ContinuousClock.now
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "gold-bench-director-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(path: dir + "/gold.db")
        var report = ScaleReport(configuration: config)

        log("applying a fleet of \(config.machines) machines")
        let fleet = SimulatedFleet.make(machines: config.machines)
        let applyStart = ContinuousClock.now
        _ = try await store.applyFleet(fleet, prune: false, dryRun: false, actor: "bench")
        report.fleetApplySeconds = (ContinuousClock.now - applyStart).milliseconds / 1000

        var tokens: [String: String] = [:]
        for role in [Role.operator, .viewer, .server] {
            let secret = TokenSecret.generate()
            try await store.insertToken(
                TokenRecord(
                    id: TokenSecret.newID(), hash: secret.hash, role: role, machine: nil,
                    label: "bench \(role.rawValue)",
                    createdAt: Date()), actor: "bench")
            tokens[role.rawValue] = secret.value
        }

        let recorder = TransitionRecorder()
        let (finishedStream, finishedSink) = AsyncStream.makeStream(of: Workflow.self)
        let measured = MeasuringStore(base: store, recorder: recorder) { finishedSink.yield($0) }
        let world = SimulatedWorld(
            recorder: recorder, delays: config.delayMilliseconds, longFactor: config.longFactor,
            poll: config.agentPollSeconds, serverToken: tokens["server"]!)
        var logger = Logger(label: "gold-bench-director")
        logger.logLevel = .error
        let runner = WorkflowRunner(
            store: measured, actions: world, logger: logger, tickInterval: .milliseconds(config.tickMilliseconds))
        let director = Director(store: measured, registry: registry, logger: logger, workflows: runner)
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = director.makeApplication(host: "127.0.0.1", port: 0) { portSink.yield($0) }
        let group = ServiceGroup(configuration: .init(services: [runner, app], logger: logger))

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw ScaleError("the director did not start") }
            let base = "http://127.0.0.1:\(port)"
            world.setDirector(base)
            let lister = Lister(url: base + "/v1/machines", token: tokens["viewer"]!)
            defer { world.stopAll() }

            // Before any workflow: the list on a quiet director.
            log("timing \(config.idleListSamples) machine lists on a quiet director")
            let first = try await lister.verify(expected: config.machines)
            report.listBytes = first
            var idle: [Double] = []
            for _ in 0..<config.idleListSamples { idle.append(try await lister.sample()) }
            report.listIdle = LatencySummary(milliseconds: idle)

            // Installed machines outside any workflow: their agents long-poll all along.
            for index in (config.machines - config.idleAgents)..<config.machines {
                let name = SimulatedFleet.name(index)
                world.setInstalledToken(try await Self.agentToken(store, machine: name), machine: name)
                world.startMachine(name, booting: false)
            }

            let fleetOps = FleetOperations(
                store: store, world: world, base: base, operatorToken: tokens["operator"]!,
                limit: config.machines - config.idleAgents, replacing: config.sustainSeconds > 0)
            log("starting \(config.inFlight) provision workflows")
            let startBegan = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { starts in
                for worker in 0..<config.startConcurrency {
                    starts.addTask {
                        var index = worker
                        while index < config.inFlight {
                            try await fleetOps.startNext()
                            index += config.startConcurrency
                        }
                    }
                }
                try await starts.waitForAll()
            }
            report.startSeconds = (ContinuousClock.now - startBegan).milliseconds / 1000

            // Finished workflows are replaced while the run is sustained.
            let replacer = Task {
                for await workflow in finishedStream {
                    await fleetOps.finished(workflow)
                }
            }

            let monitor = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(10))
                    let snapshot = recorder.snapshot()
                    log(
                        "in flight \(await fleetOps.inFlight), transitions saved \(snapshot.saves), simulator failures \(world.failureCount)"
                            + (world.firstFailures.last.map { " (last: \($0))" } ?? ""))
                }
            }
            defer { monitor.cancel() }
            let windowStart = ContinuousClock.now
            let savesAtStart = recorder.snapshot().saves
            recorder.setPhase(ScalePhase.oneLister)
            if config.sustainSeconds > 0 {
                log(
                    "sustaining \(config.inFlight) in flight for \(Int(config.sustainSeconds)) s: machine lists with 1 client, then \(config.listConcurrency)"
                )
                report.listLoaded = try await lister.sampleFor(
                    seconds: config.sustainSeconds / 2, clients: 1, inFlight: { await fleetOps.inFlight })
                let savesAtMiddle = recorder.snapshot().saves
                report.transitionsPerSecondOneLister =
                    Double(savesAtMiddle - savesAtStart) / ((ContinuousClock.now - windowStart).milliseconds / 1000)
                let middle = ContinuousClock.now
                recorder.setPhase(ScalePhase.manyListers)
                report.listLoadedConcurrent = try await lister.sampleFor(
                    seconds: config.sustainSeconds / 2, clients: config.listConcurrency,
                    inFlight: { await fleetOps.inFlight })
                report.transitionsPerSecondManyListers =
                    Double(recorder.snapshot().saves - savesAtMiddle)
                    / ((ContinuousClock.now - middle).milliseconds / 1000)
                await fleetOps.stopReplacing()
            } else {
                await fleetOps.stopReplacing()
                report.listLoaded = try await lister.sampleUntil(clients: 1, inFlight: { await fleetOps.inFlight })
            }
            let windowEnd = ContinuousClock.now
            let savesAtEnd = recorder.snapshot().saves
            report.windowSeconds = (windowEnd - windowStart).milliseconds / 1000
            report.transitionsInWindow = savesAtEnd - savesAtStart
            recorder.setPhase(ScalePhase.drain)
            log("draining: \(await fleetOps.inFlight) workflows still running")
            // Each workflow ends (succeeded, or waiting for a person) by its steps' deadlines at the latest.
            let drainLimit = config.maxDrainSeconds.map { windowEnd + .milliseconds($0 * 1000) }
            while await fleetOps.inFlight > 0, drainLimit.map({ ContinuousClock.now < $0 }) ?? true {
                try await Task.sleep(for: .milliseconds(200))
            }
            report.workflowsStillRunning = await fleetOps.inFlight
            report.drainSeconds = (ContinuousClock.now - windowEnd).milliseconds / 1000
            replacer.cancel()

            let snapshot = recorder.snapshot()
            report.outcomeToSaved = LatencySummary(milliseconds: snapshot.outcomeToSaved.samples())
            report.observationToSaved = LatencySummary(milliseconds: snapshot.observationToSaved.samples())
            report.saveCommit = LatencySummary(milliseconds: snapshot.commits.samples())
            if config.sustainSeconds > 0 {
                for (phase, name) in [
                    (ScalePhase.oneLister, "1"), (ScalePhase.manyListers, "\(config.listConcurrency)"),
                ] {
                    report.byListers.append(
                        PhaseLatencies(
                            listClients: name,
                            outcomeToSaved: LatencySummary(milliseconds: snapshot.outcomeToSaved.samples([phase])),
                            observationToSaved: LatencySummary(
                                milliseconds: snapshot.observationToSaved.samples([phase])),
                            saveCommit: LatencySummary(milliseconds: snapshot.commits.samples([phase]))))
                }
            }
            report.transitions = snapshot.saves
            report.unmatchedDeliveries = snapshot.unmatched
            report.startRequest = LatencySummary(milliseconds: await fleetOps.startLatencies)
            report.workflowSeconds = LatencySummary(milliseconds: await fleetOps.durations.map { $0 * 1000 })
            let all = try await store.listWorkflows(machine: nil, activeOnly: false, limit: 1_000_000)
            report.workflowsStarted = all.count
            report.workflowsSucceeded = all.filter { $0.status == .succeeded }.count
            report.workflowsInIntervention = all.filter { $0.status == .intervention }.count
            report.workflowsFailed = all.filter { $0.status == .failed || $0.status == .aborted }.count
            report.stuckSteps = Dictionary(
                grouping: all.filter { $0.status == .running }.compactMap { $0.current?.definition.name }, by: { $0 }
            )
            .mapValues(\.count)
            report.interventionReasons = Array(
                Set(all.compactMap { $0.intervention.map { "\($0.step): \($0.reason)" } })
            ).sorted().prefix(5).map { $0 }
            report.simulatorFailures = world.failureCount
            report.firstSimulatorFailures = world.firstFailures
            report.storeBytes = ["gold.db", "gold.db-wal"].compactMap {
                (try? FileManager.default.attributesOfItem(atPath: dir + "/" + $0)[.size] as? Int) ?? nil
            }.reduce(0, +)

            world.stopAll()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        report.wallSeconds = (ContinuousClock.now - wallStart).milliseconds / 1000
        return report
    }

    /// The installed system's agent token (the image carries it), created as `gold token create --role agent` would.
    static func agentToken(_ store: SQLiteStore, machine: String) async throws -> String {
        let secret = TokenSecret.generate()
        try await store.insertToken(
            TokenRecord(
                id: TokenSecret.newID(), hash: secret.hash, role: .agent, machine: machine,
                label: "agent \(machine)", createdAt: Date()), actor: "bench")
        return secret.value
    }
}

/// Parts of a run whose transition samples are reported apart.
enum ScalePhase {
    static let starting = 0
    static let oneLister = 1
    static let manyListers = 2
    static let drain = 3
}

/// Starts provision workflows on fresh machines through the API, counts them running, and replaces finished ones.
actor FleetOperations {
    let store: SQLiteStore
    let world: SimulatedWorld
    let base: String
    let operatorToken: String
    /// Machines with an index below this take workflows; those above are the idle agents'.
    let limit: Int
    private var next = 0
    private var running: [String: ContinuousClock.Instant] = [:]
    private var done: Set<String> = []
    private var replacing: Bool
    private(set) var startLatencies: [Double] = []
    private(set) var durations: [Double] = []

    init(store: SQLiteStore, world: SimulatedWorld, base: String, operatorToken: String, limit: Int, replacing: Bool) {
        self.replacing = replacing
        self.store = store
        self.world = world
        self.base = base
        self.operatorToken = operatorToken
        self.limit = limit
    }

    var inFlight: Int { running.count }

    /// `gold provision` on the next fresh machine; false when none is left.
    @discardableResult
    func startNext() async throws -> Bool {
        guard next < limit else { return false }
        let machine = SimulatedFleet.name(next)
        next += 1
        world.setInstalledToken(try await ScaleBenchmark.agentToken(store, machine: machine), machine: machine)
        running[machine] = .now
        let began = ContinuousClock.now
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.send(
                "POST", base + "/v1/workflows",
                headers: [("Authorization", "Bearer \(operatorToken)"), ("Content-Type", "application/json")],
                body: Array(#"{"kind":"provision","machine":"\#(machine)"}"#.utf8), timeout: .seconds(300))
        } catch {
            // It may have started all the same; if not, it is not running.
            if (try? await store.listWorkflows(machine: machine, activeOnly: false, limit: 1).isEmpty) ?? true {
                running[machine] = nil
            }
            throw error
        }
        startLatencies.append((ContinuousClock.now - began).milliseconds)
        guard response.status == 201 else {
            running[machine] = nil
            throw ScaleError("POST /v1/workflows for \(machine): \(response.status) \(response.text.prefix(300))")
        }
        return true
    }

    func finished(_ workflow: Workflow) async {
        guard !done.contains(workflow.id) else { return }
        done.insert(workflow.id)
        world.stopMachine(workflow.machine)
        if let began = running.removeValue(forKey: workflow.machine) {
            durations.append((ContinuousClock.now - began).milliseconds / 1000)
        }
        if replacing {
            // Not awaited here: the next finished workflow is counted at once, whatever the start takes.
            Task {
                do { try await self.startNext() } catch {
                    self.world.fail("replacing \(workflow.machine)'s workflow: \(error)")
                }
            }
        }
    }

    func stopReplacing() { replacing = false }
}

/// `GET /v1/machines` with a viewer token, timed from the request to the last byte of the answer.
struct Lister: Sendable {
    let url: String
    let token: String

    func sample() async throws -> Double {
        let began = ContinuousClock.now
        let response = try await HTTPClient.send(
            "GET", url, headers: [("Authorization", "Bearer \(token)")], timeout: .seconds(300))
        guard response.status == 200 else {
            throw ScaleError("GET /v1/machines: \(response.status) \(response.text.prefix(200))")
        }
        return (ContinuousClock.now - began).milliseconds
    }

    /// The answer holds every machine; returns its size in bytes.
    func verify(expected: Int) async throws -> Int {
        let response = try await HTTPClient.send(
            "GET", url, headers: [("Authorization", "Bearer \(token)")], timeout: .seconds(300))
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let machines = try decoder.decode([MachineRecord].self, from: Data(response.body))
        guard machines.count == expected else {
            throw ScaleError("GET /v1/machines returned \(machines.count) machines, not \(expected)")
        }
        return response.body.count
    }

    /// `clients` listing in a loop for `seconds`.
    func sampleFor(seconds: Double, clients: Int, inFlight: @escaping @Sendable () async -> Int) async throws
        -> ListUnderLoad
    {
        let end = ContinuousClock.now + .milliseconds(seconds * 1000)
        return try await sample(clients: clients, inFlight: inFlight) { ContinuousClock.now < end }
    }

    /// One client listing in a loop while any workflow runs.
    func sampleUntil(clients: Int, inFlight: @escaping @Sendable () async -> Int) async throws -> ListUnderLoad {
        try await sample(clients: clients, inFlight: inFlight) { await inFlight() > 0 }
    }

    func sample(
        clients: Int, inFlight: @escaping @Sendable () async -> Int, while going: @escaping @Sendable () async -> Bool
    ) async throws -> ListUnderLoad {
        let began = ContinuousClock.now
        let taken = try await withThrowingTaskGroup(of: [(Double, Int)].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var mine: [(Double, Int)] = []
                    while await going() {
                        let running = await inFlight()
                        mine.append((try await sample(), running))
                    }
                    return mine
                }
            }
            var all: [(Double, Int)] = []
            for try await part in group { all += part }
            return all
        }
        let counts = taken.map(\.1).sorted()
        return ListUnderLoad(
            clients: clients, latency: LatencySummary(milliseconds: taken.map(\.0)),
            seconds: (ContinuousClock.now - began).milliseconds / 1000,
            inFlightMin: counts.first ?? 0, inFlightMedian: counts.isEmpty ? 0 : counts[counts.count / 2])
    }
}
