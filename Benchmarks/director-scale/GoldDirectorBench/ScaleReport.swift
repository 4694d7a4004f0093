import Foundation

/// `GET /v1/machines` timed while workflows run.
public struct ListUnderLoad: Hashable, Sendable, Codable {
    public var clients: Int
    public var latency: LatencySummary
    public var seconds: Double
    /// Workflows running when the samples were taken.
    public var inFlightMin: Int
    public var inFlightMedian: Int
}

/// Transition latencies while one or several clients list machines.
public struct PhaseLatencies: Hashable, Sendable, Codable {
    public var listClients: String
    public var outcomeToSaved: LatencySummary
    public var observationToSaved: LatencySummary
    public var saveCommit: LatencySummary
}

/// What one run measured; `markdown` is the table for docs/benchmarks.md, the JSON form carries every field.
public struct ScaleReport: Sendable, Codable {
    public var configuration: ScaleConfiguration
    public var fleetApplySeconds = 0.0
    public var listBytes = 0
    public var listIdle = LatencySummary(milliseconds: [])
    public var listLoaded = ListUnderLoad(
        clients: 1, latency: LatencySummary(milliseconds: []), seconds: 0, inFlightMin: 0, inFlightMedian: 0)
    public var listLoadedConcurrent: ListUnderLoad?
    public var startSeconds = 0.0
    public var startRequest = LatencySummary(milliseconds: [])
    /// Outcome handed to the director (agent's POST, or an action returning) → its transition saved.
    public var outcomeToSaved = LatencySummary(milliseconds: [])
    /// Observation handed to the director (boot fetches, check-in, boot success) → its transition saved.
    public var observationToSaved = LatencySummary(milliseconds: [])
    /// The store's write of one transition (state, commands, events; one synced commit).
    public var saveCommit = LatencySummary(milliseconds: [])
    public var transitions = 0
    public var transitionsPerSecondOneLister = 0.0
    public var transitionsPerSecondManyListers = 0.0
    /// The sustained window's halves: one client listing machines, then several.
    public var byListers: [PhaseLatencies] = []
    public var windowSeconds = 0.0
    public var transitionsInWindow = 0
    public var drainSeconds = 0.0
    public var workflowSeconds = LatencySummary(milliseconds: [])
    public var unmatchedDeliveries = 0
    public var workflowsStarted = 0
    public var workflowsSucceeded = 0
    public var workflowsInIntervention = 0
    public var workflowsFailed = 0
    /// Still running when the drain limit passed, and the steps they were at.
    public var workflowsStillRunning = 0
    public var stuckSteps: [String: Int] = [:]
    public var interventionReasons: [String] = []
    public var simulatorFailures = 0
    public var firstSimulatorFailures: [String] = []
    public var storeBytes = 0
    public var wallSeconds = 0.0

    public init(configuration: ScaleConfiguration) { self.configuration = configuration }

    public var transitionsPerSecond: Double { windowSeconds > 0 ? Double(transitionsInWindow) / windowSeconds : 0 }

    public var markdown: String {
        let c = configuration
        func ms(_ v: Double) -> String { v >= 100 ? String(format: "%.0f", v) : String(format: "%.1f", v) }
        func row(_ name: String, _ s: LatencySummary, _ note: String = "") -> String {
            "| \(name) | \(s.count) | \(ms(s.p50)) | \(ms(s.p95)) | \(ms(s.p99)) | \(ms(s.max)) | \(note) |"
        }
        var lines = [
            "\(c.machines) machines, \(c.inFlight) provision workflows in flight, simulated commands \(Int(c.delayMilliseconds.lowerBound))–\(Int(c.delayMilliseconds.upperBound)) ms (long ×\(c.longFactor)), agent long-poll \(c.agentPollSeconds) s, \(c.idleAgents) idle agents, runner pass every \(c.tickMilliseconds) ms",
            "",
            "| measure | samples | p50 ms | p95 ms | p99 ms | max ms | notes |",
            "|---|---:|---:|---:|---:|---:|---|",
            row("`GET /v1/machines`, quiet director", listIdle, "\(listBytes / 1024) KiB answer"),
            row(
                "`GET /v1/machines`, 1 client, workflows running", listLoaded.latency,
                "in flight: median \(listLoaded.inFlightMedian), min \(listLoaded.inFlightMin)"),
        ]
        if let concurrent = listLoadedConcurrent {
            lines.append(
                row(
                    "`GET /v1/machines`, \(concurrent.clients) clients at once, workflows running", concurrent.latency,
                    "in flight: median \(concurrent.inFlightMedian), min \(concurrent.inFlightMin)"))
        }
        lines += [
            row("outcome → transition saved", outcomeToSaved, "agent result or director action → saved"),
            row(
                "observation → transition saved", observationToSaved,
                "fetch, check-in, boot success → saved (runner pass)"),
            row("transition commit (`saveWorkflow`)", saveCommit, "one synced SQLite transaction"),
        ]
        for phase in byListers {
            let during = "while \(phase.listClients) list client\(phase.listClients == "1" ? "" : "s") ran"
            lines += [
                row("… outcome → saved, \(during)", phase.outcomeToSaved),
                row("… observation → saved, \(during)", phase.observationToSaved),
                row("… commit, \(during)", phase.saveCommit),
            ]
        }
        lines += [
            row(
                "`POST /v1/workflows` (start)", startRequest,
                "\(c.inFlight) started in \(String(format: "%.1f", startSeconds)) s"),
            "",
            "| totals | |",
            "|---|---|",
            "| transitions saved per second (sustained window) | \(String(format: "%.0f", transitionsPerSecond)) (\(transitionsInWindow) in \(String(format: "%.0f", windowSeconds)) s) |",
            "| … with 1 list client / with \(c.listConcurrency) | \(String(format: "%.0f", transitionsPerSecondOneLister)) / \(String(format: "%.0f", transitionsPerSecondManyListers)) |",
            "| transitions saved, whole run | \(transitions) |",
            "| workflows started / succeeded / intervention / failed / still running | \(workflowsStarted) / \(workflowsSucceeded) / \(workflowsInIntervention) / \(workflowsFailed) / \(workflowsStillRunning) |",
            "| workflow duration p50 / p99 | \(String(format: "%.0f", workflowSeconds.p50 / 1000)) s / \(String(format: "%.0f", workflowSeconds.p99 / 1000)) s |",
            "| fleet apply (\(c.machines) machines, one transaction) | \(String(format: "%.1f", fleetApplySeconds)) s |",
            "| drain after the sustained window | \(String(format: "%.0f", drainSeconds)) s |",
            "| store size at the end | \(storeBytes >> 20) MiB |",
            "| simulator request failures / unmatched deliveries | \(simulatorFailures) / \(unmatchedDeliveries) |",
            "| wall time | \(String(format: "%.0f", wallSeconds)) s |",
        ]
        if !stuckSteps.isEmpty {
            lines += [
                "",
                "Still running at: "
                    + stuckSteps.sorted { $0.value > $1.value }.map { "\($0.key) (\($0.value))" }.joined(
                        separator: ", "),
            ]
        }
        if !interventionReasons.isEmpty {
            lines += ["", "Interventions: " + interventionReasons.joined(separator: "; ")]
        }
        if !firstSimulatorFailures.isEmpty {
            lines += ["", "First failures: " + firstSimulatorFailures.prefix(5).joined(separator: "; ")]
        }
        return lines.joined(separator: "\n")
    }
}
