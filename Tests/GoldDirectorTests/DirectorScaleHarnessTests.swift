import GoldDirectorBench
import GoldServer
import GoldWorkflow
import Testing

/// The director benchmark's harness on a small fleet: simulated machines and agents carry every provision to its end
/// through the real API and runner, and every delivery is matched to the transition it caused.
@Suite struct DirectorScaleHarnessTests {
    @Test func simulatedAgentsCarryEveryProvisionToSucceeded() async throws {
        var config = ScaleConfiguration()
        config.machines = 24
        config.inFlight = 20
        config.sustainSeconds = 0
        config.delayMilliseconds = 1...20
        config.longFactor = 2
        config.agentPollSeconds = 2
        config.idleAgents = 2
        config.idleListSamples = 3
        config.tickMilliseconds = 100
        config.startConcurrency = 4
        let report = try await ScaleBenchmark.run(config, registry: GoldProcess.Metrics.registry)

        #expect(report.workflowsStarted == 20)
        #expect(report.workflowsSucceeded == 20, "interventions: \(report.interventionReasons)")
        #expect(report.simulatorFailures == 0, "\(report.firstSimulatorFailures)")
        // Each provision awaits three observations: its boot fetches, the netboot check-in, boot success from disk.
        #expect(report.observationToSaved.count == 60)
        // Ten outcomes each come from the simulation (the runner sets next boot and state itself); one may be spent
        // when the boot fetch finished its power step first.
        #expect(report.outcomeToSaved.count + report.unmatchedDeliveries == 200)
        #expect(report.transitions >= 20 * Runbook.provision(StepTimings()).count)
        #expect(report.listIdle.count == 3)
        #expect(report.listLoaded.latency.count >= 1)
        #expect(report.listBytes > 24 * 1000, "every machine's full record is listed")
    }
}
