import Foundation
import GoldPower
import GoldSpawn
import Testing

@testable import GoldLab

@Suite struct NamespaceClaimDecisionTests {
    let owner = NamespaceOwner(
        stateFile: "/tmp/old/lab.json", pid: 4242, createdAt: Date(timeIntervalSince1970: 1_800_000_000),
        namespaceCreated: true)

    @Test func aNamespaceNoLabRecordedIsRefused() {
        guard
            case .refuse(let why) = NamespaceClaim.decide(
                namespace: "gold-lab", owner: nil, ownerRecord: "/run/x", ownerAlive: false, pidsInside: [])
        else {
            Issue.record("expected refuse")
            return
        }
        #expect(why.contains("gold-lab") && why.contains("/run/x") && why.contains("ip netns del gold-lab"))
    }

    @Test func aRecordedNamespaceWithProcessesIsRefusedNamingThem() {
        guard
            case .refuse(let why) = NamespaceClaim.decide(
                namespace: "gold-lab", owner: owner, ownerRecord: "/run/x", ownerAlive: false, pidsInside: [7, 9])
        else {
            Issue.record("expected refuse")
            return
        }
        #expect(why.contains("pids 7 9") && why.contains("/tmp/old/lab.json"))
    }

    @Test func aLabStillComingUpIsLeftAlone() {
        // Its process runs, and no QEMU is inside yet.
        guard
            case .refuse(let why) = NamespaceClaim.decide(
                namespace: "gold-lab", owner: owner, ownerRecord: "/run/x", ownerAlive: true, pidsInside: [])
        else {
            Issue.record("expected refuse")
            return
        }
        #expect(why.contains("4242") && why.contains("still runs"))
    }

    @Test func aRecordOfANamespaceNeverMadeClaimsNone() {
        var unmade = owner
        unmade.namespaceCreated = false
        guard
            case .refuse(let why) = NamespaceClaim.decide(
                namespace: "gold-lab", owner: unmade, ownerRecord: "/run/x", ownerAlive: false, pidsInside: [])
        else {
            Issue.record("expected refuse")
            return
        }
        #expect(why.contains("never got to make it") && why.contains("ip netns del gold-lab"))
    }

    @Test func aRecordedEmptyNamespaceIsReclaimedSayingWhose() {
        guard
            case .reclaim(let what) = NamespaceClaim.decide(
                namespace: "gold-lab", owner: owner, ownerRecord: "/run/x", ownerAlive: false, pidsInside: [])
        else {
            Issue.record("expected reclaim")
            return
        }
        #expect(
            what.contains("/tmp/old/lab.json") && what.contains("pid 4242") && what.contains("2027-01-15T08:00:00Z"))
    }
}

/// `up`'s claim on real namespaces (root, iproute2): a killed lab's namespace is removed; anyone else's, or one
/// with a process still in it, is refused and left exactly as it was.
@Suite(.serialized) struct NamespaceClaimTests {
    let namespace = "gold-c" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    let ownerDirectory: String
    let stateDirectory: String

    init() throws {
        ownerDirectory = try temporaryDirectory("gold-lab-owner")
        stateDirectory = try temporaryDirectory("gold-lab-claim")
    }

    var lab: Lab {
        Lab(
            configuration: LabConfiguration(namespace: namespace, stateDirectory: stateDirectory),
            ownerDirectory: ownerDirectory)
    }

    func exists() async throws -> Bool { try await network().namespaceExists() }

    func network() -> LabNetwork {
        LabNetwork(namespace: namespace, bridge: "goldbr0", gatewayAddress: "10.77.0.1/24", runner: SystemRunner())
    }

    func cleanUp() async {
        _ = try? await network().deleteNamespace()
        try? FileManager.default.removeItem(atPath: ownerDirectory)
        try? FileManager.default.removeItem(atPath: stateDirectory)
    }

    func record(stateFile: String) throws {
        // A pid above any pid_max: the process that made it is gone.
        try NamespaceOwner(stateFile: stateFile, pid: 0x7fff_fff0, createdAt: Date(), namespaceCreated: true)
            .save(NamespaceOwner.path(directory: ownerDirectory, namespace: namespace))
    }

    @Test func aKilledLabsNamespaceIsRemovedAndItsRecordWithIt() async throws {
        try #require(geteuid() == 0, "needs root for ip netns")
        try await network().createNamespace()
        try record(stateFile: "/tmp/a-killed-lab/lab.json")
        try await lab.claimNamespace()
        let gone = try await !exists()
        let recordGone = !FileManager.default.fileExists(
            atPath: NamespaceOwner.path(directory: ownerDirectory, namespace: namespace))
        await cleanUp()
        #expect(gone && recordGone)
    }

    @Test func aNamespaceNoLabMadeIsRefusedAndKept() async throws {
        try #require(geteuid() == 0, "needs root for ip netns")
        try await network().createNamespace()
        let error = await #expect(throws: LabError.self) { try await lab.claimNamespace() }
        let kept = try await exists()
        await cleanUp()
        #expect(error?.code == .conflict && error?.message.contains("ip netns del \(namespace)") == true)
        #expect(kept)
    }

    @Test func aNamespaceWithAProcessInsideIsRefusedAndKept() async throws {
        try #require(geteuid() == 0, "needs root for ip netns")
        try await network().createNamespace()
        try record(stateFile: "/tmp/another-lab/lab.json")
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sleeper.arguments = ["ip", "netns", "exec", namespace, "sleep", "120"]
        sleeper.standardOutput = FileHandle.nullDevice
        sleeper.standardError = FileHandle.nullDevice
        try sleeper.run()
        // `ip netns exec` enters the namespace before it execs sleep.
        var inside: [Int32] = []
        for _ in 0..<200 where inside.isEmpty {
            inside = try await network().pids()
            if inside.isEmpty { try await Task.sleep(for: .milliseconds(25)) }
        }
        let error = await #expect(throws: LabError.self) { try await lab.claimNamespace() }
        let kept = try await exists()
        // SIGKILL: a child of the test process may inherit a mask that blocks SIGTERM.
        kill(sleeper.processIdentifier, SIGKILL)
        sleeper.waitUntilExit()
        await cleanUp()
        #expect(!inside.isEmpty)
        #expect(error?.code == .conflict && error?.message.contains("/tmp/another-lab/lab.json") == true)
        #expect(inside.allSatisfy { error?.message.contains(String($0)) == true })
        #expect(kept)
    }

    @Test func downAfterAnUpThatNeverMadeTheNamespaceRemovesItsRecord() async throws {
        try #require(geteuid() == 0, "lab down needs root")
        let config = LabConfiguration(namespace: namespace, stateDirectory: stateDirectory)
        try LabState(configuration: config).save()
        try NamespaceOwner(stateFile: config.stateFile, pid: getpid(), createdAt: Date(), namespaceCreated: false)
            .save(NamespaceOwner.path(directory: ownerDirectory, namespace: namespace))
        _ = try await lab.down()
        let recordGone = !FileManager.default.fileExists(
            atPath: NamespaceOwner.path(directory: ownerDirectory, namespace: namespace))
        await cleanUp()
        #expect(recordGone)
    }
}
