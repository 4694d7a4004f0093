import Foundation
import GoldPower
import GoldSpawn
import GoldTestSupport
import Testing

@testable import GoldLab

/// A real lab: two QEMU machines (UEFI and BIOS) on a bridge in a uniquely named namespace, driven through QMP.
///
/// Needs root and the Debian packages iproute2, qemu-system-x86, qemu-utils, ovmf and ipxe-qemu; `Lab.up` fails
/// naming the missing package. No DHCP server runs, so each firmware's network boot attempt is what we wait for.
@Suite(.serialized) struct LabIntegrationTests {
    static let uefi = LabMachineSpec(name: "uefi1", bootMode: .uefi, disks: [.mib(64, .raw)])
    static let bios = LabMachineSpec(name: "bios1", bootMode: .bios, disks: [.mib(64), .mib(16, .raw)])

    @Test func twoMachinesPowerOnReachNetworkBootPowerOffAndLeaveNoTrace() async throws {
        try #require(geteuid() == 0, "the lab test needs root (ip netns, bridge, tap devices): run swift test as root")
        let id = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let dir = try temporaryDirectory("gold-lab")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = LabConfiguration(namespace: "gold-t\(id)", bridge: "goldbr0", stateDirectory: dir)
        let lab = Lab(configuration: config)
        let clock = ContinuousClock()

        let started = clock.now
        let state = try await lab.up(machines: [Self.uefi, Self.bios])
        print(
            "lab up in \(clock.now - started): accelerator \(state.accelerator?.rawValue ?? "?") (\(state.acceleratorReason ?? ""))"
        )
        let pids = state.machines.compactMap(\.pid)

        do {
            #expect(pids.count == 2 && pids.allSatisfy { ProcessControl.isRunning($0) })
            #expect(state.machines.map(\.machine.fleetEntry.name) == ["uefi1", "bios1"])
            let again = try await #require(throws: LabError.self) { try await lab.up(machines: [Self.uefi]) }
            #expect(again.code == .alreadyUp)
            print("up twice: \(again)")

            try await withThrowingTaskGroup(of: Void.self) { group in
                for entry in state.machines {
                    group.addTask { try await Self.exercise(entry.machine) }
                }
                try await group.waitForAll()
            }
        } catch {
            Issue.record(error)
        }

        let downStarted = clock.now
        let result = try await lab.down()
        print("lab down in \(clock.now - downStarted): \(result)")
        guard case .removed(let removed, let leftovers) = result else {
            Issue.record("down did not remove anything: \(result)")
            return
        }
        #expect(leftovers.isEmpty)
        #expect(removed.contains("namespace gold-t\(id)") && removed.contains("bridge goldbr0"))
        #expect(removed.contains("tap gtap0") && removed.contains("tap gtap1"))
        #expect(pids.allSatisfy { !ProcessControl.isRunning($0) })
        let namespaces = try await SystemRunner().run("ip", ["netns", "list"], timeout: .seconds(15)).stdout
        #expect(!namespaces.contains("gold-t\(id)"))
        #expect(Self.processesMentioning(dir).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        guard case .nothingUp = try await lab.down() else {
            Issue.record("second down should find nothing up")
            return
        }
    }

    @Test func aFailedUpRemovesWhatItMade() async throws {
        try #require(geteuid() == 0, "the lab test needs root (ip netns, bridge, tap devices): run swift test as root")
        let id = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let dir = try temporaryDirectory("gold-lab")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = LabConfiguration(namespace: "gold-f\(id)", stateDirectory: dir, accelerator: .tcg)
        // The second machine's QEMU "fails to start"; the first one is running by then.
        let runner = failingQEMURunner("guest=bios-bad")
        let lab = Lab(configuration: config, runner: runner)
        let specs = [Self.uefi, LabMachineSpec(name: "bios-bad", bootMode: .bios)]
        let error = try await #require(throws: LabError.self) { try await lab.up(machines: specs) }
        #expect(error.code == .commandFailed && error.message.contains("bios-bad"))
        let namespaces = try await SystemRunner().run("ip", ["netns", "list"], timeout: .seconds(15)).stdout
        #expect(!namespaces.contains("gold-f\(id)"))
        #expect(Self.processesMentioning(dir).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        #expect(try lab.current() == nil)
    }

    /// Power on, see the firmware try the network, power off (console goes quiet), power on again (a cold boot), and
    /// for BIOS: a next-boot-only disk choice used once then forgotten.
    static func exercise(_ machine: LabMachine) async throws {
        let driver = machine.powerDriver()
        let console = machine.console
        let name = machine.spec.name
        let clock = ContinuousClock()
        #expect(try await driver.status() == .off, "\(name) starts powered off")

        var offset = console.currentOffset()
        var t = clock.now
        try await driver.powerOn()
        #expect(try await driver.status() == .on)
        let netboot = machine.spec.bootMode == .uefi ? ">>Start PXE over IPv4" : "iPXE initialising devices"
        var match = try await console.waitFor(netboot, after: offset, deadline: .seconds(120))
        print("\(name): power on → \"\(match.line)\" after \(clock.now - t)")
        if machine.spec.bootMode == .bios {
            // iPXE wraps at 80 columns: "...... No configuration methods" / "succeeded (http://ipxe.org/040ee119)".
            match = try await console.waitFor("No configuration methods", after: offset, deadline: .seconds(120))
            print("\(name): power on → \"\(match.line)\" after \(clock.now - t)")
        }

        try await driver.powerOff()
        #expect(try await driver.status() == .off)
        let quiet = console.currentOffset()
        try await Task.sleep(for: .seconds(2))
        #expect(console.currentOffset() == quiet, "\(name): console still printing after power off")

        offset = console.currentOffset()
        t = clock.now
        try await driver.powerOn()
        let banner = machine.spec.bootMode == .uefi ? ">>Start PXE over IPv4" : "SeaBIOS \\(version"
        match = try await console.waitFor(banner, after: offset, deadline: .seconds(120))
        print("\(name): second power on → \"\(match.line)\" after \(clock.now - t)")

        if machine.spec.bootMode == .bios {
            // Let this boot reach its own boot choice first, so its lines are not mistaken for the next boot's.
            _ = try await console.waitFor("Booting from ROM", after: offset, deadline: .seconds(120))
            try await driver.setNextBoot(.disk, persistent: false)
            match = try await firstBootChoice(after: { try await driver.powerCycle() }, console)
            #expect(match.line.hasPrefix("Booting from Hard Disk"), "\(name): next-boot disk ignored: \(match.line)")
            print("\(name): next boot disk → \"\(match.line)\"")

            match = try await firstBootChoice(after: { try await driver.powerCycle() }, console)
            #expect(match.line.hasPrefix("Booting from ROM"), "\(name): once-only disk choice stuck: \(match.line)")
            print("\(name): following boot → \"\(match.line)\"")

            try await driver.setNextBoot(.disk, persistent: true)
            match = try await firstBootChoice(after: { try await driver.powerCycle() }, console)
            #expect(match.line.hasPrefix("Booting from Hard Disk"), "\(name): persistent disk ignored: \(match.line)")
            match = try await firstBootChoice(after: { try await driver.powerCycle() }, console)
            #expect(match.line.hasPrefix("Booting from Hard Disk"), "\(name): persistent disk forgotten: \(match.line)")
            print("\(name): persistent disk, two boots → \"\(match.line)\"")
        }
        if machine.spec.bootMode == .uefi {
            // OVMF with the disk first: 'BdsDxe: failed to load Boot0001 "UEFI Misc Device" … Not Found', then PXE.
            let choice = "UEFI Misc Device|Start PXE over IPv4"
            try await driver.setNextBoot(.disk, persistent: false)
            offset = console.currentOffset()
            try await driver.powerCycle()
            match = try await console.waitFor(choice, after: offset, deadline: .seconds(120))
            #expect(match.line.contains("UEFI Misc Device"), "\(name): next-boot disk ignored: \(match.line)")
            print("\(name): next boot disk → \"\(match.line)\"")

            offset = console.currentOffset()
            try await driver.powerCycle()
            match = try await console.waitFor(choice, after: offset, deadline: .seconds(120))
            #expect(match.line.contains("Start PXE over IPv4"), "\(name): once-only disk choice stuck: \(match.line)")
            print("\(name): following boot → \"\(match.line)\"")
        }
        try await driver.powerOff()
        #expect(try await driver.status() == .off)
    }

    /// Runs `action` (a power cycle) and returns SeaBIOS's first "Booting from …" line of the boot it starts.
    static func firstBootChoice(after action: () async throws -> Void, _ console: SerialConsole) async throws
        -> SerialConsole.Match
    {
        let offset = console.currentOffset()
        try await action()
        let banner = try await console.waitFor("SeaBIOS \\(version", after: offset, deadline: .seconds(120))
        return try await console.waitFor(
            "Booting from (ROM|Hard Disk)", after: banner.endOffset, deadline: .seconds(120))
    }

    /// Pids whose command line mentions `text`.
    static func processesMentioning(_ text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            ProcessControl.commandLine(pid)?.contains(text) == true && pid != getpid()
        }
    }
}

/// Runs everything for real except a QEMU launch whose arguments contain `marker`, which "fails".
func failingQEMURunner(_ failing: String) -> ScriptedRunner {
    ScriptedRunner { command in
        command.arguments.contains(where: { $0.contains(failing) })
            ? InvocationResult(exitCode: 1, stderr: "qemu-system-x86_64: injected failure") : nil
    }
}
