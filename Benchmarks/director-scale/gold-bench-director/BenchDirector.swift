import ArgumentParser
import Foundation
import GoldDirectorBench
import Metrics
import Prometheus

/// The director with a fleet-sized store and many workflows in flight: p50/p95/p99 of `gold machine list` and of step
/// transitions. Progress goes to stderr; the report (Markdown, or JSON with --json) to stdout.
@main
struct BenchDirector: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gold-bench-director",
        abstract: "Times the director with many machines and workflows in flight (simulated machines and agents).")

    @Option(help: "Machines in the fleet.") var machines = 10_000
    @Option(help: "Provision workflows kept in flight.") var inFlight = 1_000
    @Option(help: "Seconds finished workflows are replaced (0: run the first ones to their end).") var sustain = 240.0
    @Option(help: "Simulated command and boot time, milliseconds: MIN-MAX.") var delayMs = "1000-5000"
    @Option(help: "Image writes, torture tests, compiles and image builds take this many times longer.")
    var longFactor = 4.0
    @Option(help: "The agents' long-poll wait, seconds.") var poll = 25
    @Option(help: "Installed machines outside any workflow whose agents long-poll all along.") var idleAgents = 0
    @Option(help: "Machine lists timed on the quiet director.") var idleSamples = 30
    @Option(help: "Clients listing machines at once in the second half of the sustained phase.") var listConcurrency = 4
    @Option(help: "The runner's pass interval, milliseconds.") var tickMs = 1000
    @Option(
        help:
            "Seconds to wait for the last workflows after the sustained window (they are then reported as still running)."
    ) var maxDrain = 300.0
    @Flag(help: "Print the report as JSON.") var json = false

    func run() async throws {
        var config = ScaleConfiguration()
        config.machines = machines
        config.inFlight = inFlight
        config.sustainSeconds = sustain
        let bounds = delayMs.split(separator: "-").compactMap { Double($0) }
        guard bounds.count == 2, bounds[0] <= bounds[1] else {
            throw ValidationError("--delay-ms must be MIN-MAX in milliseconds, e.g. 1000-5000")
        }
        config.delayMilliseconds = bounds[0]...bounds[1]
        config.longFactor = longFactor
        config.agentPollSeconds = poll
        config.idleAgents = idleAgents
        config.idleListSamples = idleSamples
        config.listConcurrency = listConcurrency
        config.tickMilliseconds = tickMs
        config.maxDrainSeconds = maxDrain
        do { try config.validate() } catch { throw ValidationError("\(error)") }

        // As `gold serve` does: store timings go to a Prometheus registry.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let began = Date()
        let report = try await ScaleBenchmark.run(config, registry: registry) { line in
            FileHandle.standardError.write(Data("[bench +\(Int(Date().timeIntervalSince(began)))s] \(line)\n".utf8))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.markdown)
        }
    }
}
