import GoldAPI
import GoldCore
import Logging
import ServiceLifecycle
import Testing

@testable import GoldDeploy

@Suite struct FetchReporterTests {
    func reporter(_ registry: ClientRegistry = ClientRegistry()) -> FetchReporter {
        // Nothing is sent in these tests: flush is never called.
        FetchReporter(
            link: DirectorLink(url: "http://127.0.0.1:9", token: "t"), registry: registry, logger: Logger(label: "test")
        )
    }

    @Test func unattributedFetchesAreOnlyCounted() async {
        let reporter = reporter()
        for index in 0..<5000 {
            await reporter.add(
                address: "10.0.\(index / 250).\(index % 250)", mac: nil, file: "pxelinux.cfg/01-x",
                protocolName: "tftp",
                bytes: 0, outcome: "not found", duration: .zero)
        }
        #expect(await reporter.waiting.isEmpty)
        #expect(await reporter.countedFetches == 5000)
    }

    @Test func aMachinesFetchesPastTheRateAreCounted() async throws {
        let registry = ClientRegistry()
        let mac = try #require(MACAddress("52:54:00:00:00:01"))
        await registry.record(address: "10.0.0.5", mac: mac)
        let reporter = reporter(registry)
        for _ in 0..<200 {
            await reporter.add(
                address: "10.0.0.5", mac: nil, file: String(repeating: "f", count: 100_000), protocolName: "http GET",
                bytes: 1, outcome: "404", duration: .zero)
        }
        let waiting = await reporter.waiting
        #expect(waiting.count == 120)
        #expect(waiting.allSatisfy { $0.mac == mac.description && $0.file.utf8.count <= 260 })
        #expect(await reporter.countedFetches == 80)
    }

    /// The servers' callbacks submit without waiting; `run()` takes the fetches in order, so a TFTP fetch from an
    /// address a DHCP exchange just tied to a machine is that machine's; on shutdown nothing submitted is lost.
    @Test func submittedFetchesAreTakenInOrderAndAttributed() async throws {
        let mac = try #require(MACAddress("52:54:00:00:00:07"))
        let reporter = reporter()
        reporter.submit(
            FetchReporter.Fetch(
                address: "0.0.0.0", mac: mac, learned: "10.0.0.7", file: "-", protocolName: "dhcp", bytes: 0,
                outcome: "offered", duration: .zero))
        reporter.submit(
            FetchReporter.Fetch(
                address: "10.0.0.7", mac: nil, file: "ipxe.efi", protocolName: "tftp", bytes: 1, outcome: "sent",
                duration: .zero))
        let group = ServiceGroup(configuration: .init(services: [reporter], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        // The director (port 9) is absent: both wait for the next try.
        let waiting = await reporter.waiting
        #expect(waiting.map(\.file) == ["-", "ipxe.efi"])
        #expect(waiting.allSatisfy { $0.mac == mac.description })
    }

    @Test func theTallyIsOneBoundedReport() {
        var tally = FetchTally()
        for index in 0..<100 {
            tally.add(
                address: "a\(index)", protocolName: "p\(index)", outcome: "o", file: String(repeating: "x", count: 1000)
            )
        }
        let report = tally.report()
        #expect(report.mac == nil && report.protocolName == "summary")
        #expect(report.file.hasPrefix("100 fetches from 100 addresses not recorded one by one"))
        #expect(report.file.contains("other ×68"))
        #expect(report.file.utf8.count < 8000)
    }

    @Test func theRegistryForgetsTheOldestHalfPastItsCapacity() async throws {
        let registry = ClientRegistry(capacity: 100)
        let mac = try #require(MACAddress("52:54:00:00:00:01"))
        for index in 0..<1000 { await registry.record(address: "10.0.\(index / 250).\(index % 250)", mac: mac) }
        #expect(await registry.count <= 100)
        #expect(await registry.mac(for: "10.0.3.249") == mac)
        #expect(await registry.mac(for: "10.0.0.0") == nil)
    }
}
