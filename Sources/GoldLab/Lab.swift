import Foundation
import GoldSpawn
import Logging

/// A lab of QEMU machines on a bridge in a network namespace, standing in for a rack of bare metal.
///
/// `up` records every step in a state file before taking the next, so `down` removes exactly what was made —
/// processes, taps, bridge, namespace, files — even after a failed `up`, and never touches anything else.
public struct Lab: Sendable {
    public let configuration: LabConfiguration
    private let runner: any ProgramRunner
    private let logger: Logger
    /// Where `up` records which lab made a namespace (``NamespaceOwner``); tests use their own.
    let ownerDirectory: String

    public init(
        configuration: LabConfiguration, runner: any ProgramRunner = SystemRunner(),
        logger: Logger = Logger(label: "gold.lab"), ownerDirectory: String = "/run/gold-lab"
    ) {
        self.configuration = configuration
        self.runner = runner
        self.logger = logger
        self.ownerDirectory = ownerDirectory
    }

    private var lockPath: String { ownerDirectory + "/" + configuration.namespace + ".lock" }

    private var ownerRecord: String {
        NamespaceOwner.path(directory: ownerDirectory, namespace: configuration.namespace)
    }

    private var network: LabNetwork {
        LabNetwork(
            namespace: configuration.namespace, bridge: configuration.bridge,
            gatewayAddress: configuration.gatewayAddress, runner: runner)
    }

    /// The lab now up, if any, from its state file.
    public func current() throws -> LabState? { try LabState.load(configuration.stateFile) }

    /// Records a Gold server process started inside the lab, so `down` stops it.
    public func recordGoldProcess(_ pid: Int32) throws {
        guard var state = try current() else { throw LabError(.notUp, "no lab is up") }
        state.goldPids.append(pid)
        try state.save()
    }

    /// Stops the recorded Gold process whose command line contains `marker`: SIGKILL at once when `hard` (a crash, for
    /// drills), else SIGTERM and a grace period. Forgets its pid; returns it, or nil when none was running.
    public func stopGoldProcess(matching marker: String, hard: Bool) async throws -> Int32? {
        guard var state = try current() else { throw LabError(.notUp, "no lab is up") }
        guard let pid = state.goldPids.first(where: { ProcessControl.commandLine($0)?.contains(marker) == true }) else {
            return nil
        }
        if hard {
            kill(pid, SIGKILL)
            for _ in 0..<100 where ProcessControl.isRunning(pid) { try? await Task.sleep(for: .milliseconds(50)) }
        } else {
            _ = await ProcessControl.terminate(pid: pid, expecting: marker)
        }
        state.goldPids.removeAll { $0 == pid }
        try state.save()
        return pid
    }

    /// Plugs or pulls a machine's network cable (its tap's link), behind the back of Gold and its power driver.
    public func setCable(machine name: String, plugged: Bool) async throws {
        guard let state = try current() else { throw LabError(.notUp, "no lab is up") }
        guard let entry = state.machines.first(where: { $0.machine.spec.name == name }) else {
            throw LabError(
                .notUp,
                "no lab machine named '\(name)'; the lab has \(state.machines.map(\.machine.spec.name).joined(separator: ", "))"
            )
        }
        try await network.setLink(entry.machine.tap, up: plugged)
    }

    /// Creates the namespace, bridge, taps and one QEMU process per machine, each powered off (QMP `prelaunch`).
    ///
    /// Throws ``LabError/Code/alreadyUp`` if a state file exists, without changing anything. On any other failure it
    /// tears down what it made and rethrows.
    @discardableResult
    public func up(machines specs: [LabMachineSpec]) async throws -> LabState {
        if let existing = try current() {
            throw LabError(
                .alreadyUp,
                "a lab is already up: namespace \(existing.configuration.namespace) with "
                    + "\(existing.machines.count) machine(s) (\(existing.machines.map(\.machine.spec.name).joined(separator: ", "))), "
                    + "state in \(configuration.stateFile); run down first")
        }
        try validate(specs)
        try HostRequirements.checkRoot("lab up")
        try HostRequirements.check(HostRequirements.needed(for: Set(specs.map(\.bootMode))))
        return try await withNamespaceLock {
            try await claimNamespace()

            try FileManager.default.createDirectory(
                atPath: configuration.stateDirectory, withIntermediateDirectories: true)
            var state = LabState(configuration: configuration)
            try state.save()
            do {
                try await build(&state, specs)
            } catch {
                logger.error("lab up failed, tearing down", metadata: ["error": "\(error)"])
                // Still under the lock: a clean tear-down takes the lock file with it, as `down` does.
                if case .removed(_, leftovers: [])? = try? await tearDown(state) { unlink(lockPath) }
                throw error
            }
            return state
        }
    }

    /// Runs `body` holding an exclusive flock on `OWNERDIR/NAMESPACE.lock`, so two `up`/`down` on one namespace
    /// never interleave; a second one is refused at once. The descriptor is close-on-exec: QEMU never holds it.
    /// `removeAfter` decides from the result whether the lock file goes too (a lab fully taken down leaves none);
    /// it is unlinked while still held.
    private func withNamespaceLock<T>(
        removeAfter: (T) -> Bool = { _ in false }, _ body: () async throws -> T
    ) async throws -> T {
        try FileManager.default.createDirectory(atPath: ownerDirectory, withIntermediateDirectories: true)
        let path = lockPath
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LabError(.commandFailed, "cannot open \(path): errno \(errno)") }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            throw LabError(
                .conflict,
                "another lab up or down on namespace \(configuration.namespace) is running (it holds \(path)); "
                    + "wait for it to finish")
        }
        let result = try await body()
        if removeAfter(result) { unlink(path) }
        return result
    }

    /// With no state file of its own, `up` finds the namespace either absent (fine), left behind by a lab that was
    /// killed (recorded by ``NamespaceOwner`` and empty of processes: removed, with a warning), or someone else's
    /// or in use (``LabError/Code/conflict``, nothing changed).
    func claimNamespace() async throws {
        guard try await network.namespaceExists() else { return }
        let owner = NamespaceOwner.load(ownerRecord)
        switch NamespaceClaim.decide(
            namespace: configuration.namespace, owner: owner, ownerRecord: ownerRecord,
            ownerAlive: owner?.processAlive ?? false, pidsInside: try await network.pids(strict: true))
        {
        case .refuse(let why):
            throw LabError(.conflict, why)
        case .reclaim(let what):
            logger.warning("\(what)")
            try await network.deleteNamespace()
            try? FileManager.default.removeItem(atPath: ownerRecord)
        }
    }

    private func build(_ state: inout LabState, _ specs: [LabMachineSpec]) async throws {
        let probe: AcceleratorProbe.Result
        switch configuration.accelerator {
        case .auto: probe = await AcceleratorProbe.probe(runner: runner, scratchDirectory: configuration.stateDirectory)
        case .kvm: probe = .init(accelerator: .kvm, reason: "configured")
        case .tcg: probe = .init(accelerator: .tcg, reason: "configured")
        }
        logger.info("accelerator \(probe.accelerator.rawValue): \(probe.reason)")
        state.accelerator = probe.accelerator
        state.acceleratorReason = probe.reason

        // Recorded before the namespace exists, and marked made once it is: a kill in between leaves a record
        // that claims no namespace.
        var owner = NamespaceOwner(
            stateFile: configuration.stateFile, pid: getpid(), createdAt: Date(), namespaceCreated: false)
        try owner.save(ownerRecord)
        try await network.createNamespace()
        owner.namespaceCreated = true
        try owner.save(ownerRecord)
        state.namespaceCreated = true
        try state.save()
        try await network.createBridge()
        state.bridgeCreated = true
        try state.save()
        if let uplink = configuration.uplink {
            state.uplink = uplink.hostLink
            try state.save()
            try await network.createUplink(
                host: uplink.hostLink, lab: uplink.labLink, hostAddress: uplink.hostAddress,
                labAddress: uplink.labAddress)
            guard let segment = LabNetwork.network(of: configuration.gatewayAddress) else {
                throw LabError(.invalidSpec, "gateway address \(configuration.gatewayAddress) is not an IPv4 CIDR")
            }
            try await network.routeSegment(segment, via: uplink.labAddress, hostLink: uplink.hostLink)
        }

        for (index, spec) in specs.enumerated() {
            let machine = LabMachine(
                spec: spec, directory: configuration.stateDirectory + "/machines/" + spec.name, tap: "gtap\(index)")
            try await network.createTap(machine.tap)
            state.taps.append(machine.tap)
            state.machines.append(.init(machine: machine, pid: nil))
            try state.save()
            try await machine.createFiles(runner: runner)
            let pid = try await machine.launch(
                namespace: configuration.namespace, accelerator: probe.accelerator, runner: runner)
            state.machines[state.machines.count - 1].pid = pid
            try state.save()
            logger.info("machine \(spec.name) up", metadata: ["pid": "\(pid)", "mac": "\(spec.effectiveMAC)"])
        }
    }

    private func validate(_ specs: [LabMachineSpec]) throws {
        guard !specs.isEmpty else { throw LabError(.invalidSpec, "no machines given") }
        for spec in specs {
            guard !spec.name.isEmpty,
                spec.name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) })
            else { throw LabError(.invalidSpec, "machine name \"\(spec.name)\": use letters, digits, - and _") }
            guard !spec.disks.isEmpty else { throw LabError(.invalidSpec, "machine \(spec.name) has no disk") }
            guard spec.disks.count <= 16 else { throw LabError(.invalidSpec, "machine \(spec.name): at most 16 disks") }
            let octets = spec.effectiveMAC.split(separator: ":")
            guard octets.count == 6, octets.allSatisfy({ $0.count == 2 && UInt8($0, radix: 16) != nil }) else {
                throw LabError(.invalidSpec, "machine \(spec.name): MAC \(spec.effectiveMAC) is not xx:xx:xx:xx:xx:xx")
            }
        }
        for (what, values) in [("name", specs.map(\.name)), ("MAC", specs.map(\.effectiveMAC))] {
            let duplicates = Dictionary(grouping: values, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
            guard duplicates.isEmpty else {
                throw LabError(.invalidSpec, "duplicate machine \(what): \(duplicates.joined(separator: ", "))")
            }
        }
    }

    /// What `down` did.
    public enum DownResult: Sendable, Equatable {
        /// No state file: nothing was up and nothing was changed.
        case nothingUp(String)
        /// What was removed, one line each; `leftovers` lists what could not be removed.
        case removed([String], leftovers: [String])
    }

    /// Stops the lab's QEMU processes and removes its taps, bridge, namespace and state directory contents.
    public func down() async throws -> DownResult {
        guard let state = try current() else {
            return .nothingUp("no lab is up: no state file at \(configuration.stateFile); nothing changed")
        }
        try HostRequirements.checkRoot("lab down")
        return try await withNamespaceLock(
            removeAfter: { if case .removed(_, leftovers: []) = $0 { true } else { false } },
            { try await tearDown(state) })
    }

    /// `down` under the namespace lock (also `up`'s clean-up after a failure, which already holds it).
    private func tearDown(_ state: LabState) async throws -> DownResult {
        var removed: [String] = []
        var leftovers: [String] = []
        for pid in state.goldPids {
            switch await ProcessControl.terminate(pid: pid, expecting: "gold") {
            case .terminated: removed.append("process \(pid) (Gold's servers)")
            case .notRunning: break
            case .notOurs: logger.warning("pid \(pid) is no longer Gold's server; left alone")
            case .survived: leftovers.append("process \(pid) (Gold's servers) survived SIGKILL")
            }
        }
        for entry in state.machines {
            guard let pid = entry.pid else { continue }
            switch await ProcessControl.terminate(pid: pid, expecting: entry.machine.qmpSocket) {
            case .terminated: removed.append("process \(pid) (QEMU of \(entry.machine.spec.name))")
            case .notRunning: break
            case .notOurs: logger.warning("pid \(pid) is no longer \(entry.machine.spec.name)'s QEMU; left alone")
            case .survived: leftovers.append("process \(pid) (QEMU of \(entry.machine.spec.name)) survived SIGKILL")
            }
        }
        if state.namespaceCreated {
            for tap in state.taps.reversed() where try await network.deleteLink(tap) {
                removed.append("tap \(tap)")
            }
            if state.bridgeCreated, try await network.deleteLink(configuration.bridge) {
                removed.append("bridge \(configuration.bridge)")
            }
            let others = try await network.pids()
            if !others.isEmpty {
                leftovers.append(
                    "processes not started by the lab still in namespace \(configuration.namespace): "
                        + others.map(String.init).joined(separator: " "))
            }
            if let uplink = state.uplink, try await network.deleteHostLink(uplink) { removed.append("veth \(uplink)") }
            // The namespace is deleted by name: only if the record says it is this lab's (or there is none, as
            // for a lab made before records), never one another lab has made since.
            let owner = NamespaceOwner.load(ownerRecord)
            if let owner, owner.stateFile != configuration.stateFile {
                leftovers.append(
                    "namespace \(configuration.namespace) now belongs to the lab with state \(owner.stateFile); left alone"
                )
            } else if try await network.deleteNamespace() {
                removed.append("namespace \(configuration.namespace)")
            }
        }
        if NamespaceOwner.load(ownerRecord)?.stateFile == configuration.stateFile {
            try? FileManager.default.removeItem(atPath: ownerRecord)
        }
        let fm = FileManager.default
        for entry in state.machines where fm.fileExists(atPath: entry.machine.directory) {
            try fm.removeItem(atPath: entry.machine.directory)
            removed.append("directory \(entry.machine.directory)")
        }
        let machinesDir = configuration.stateDirectory + "/machines"
        if (try? fm.contentsOfDirectory(atPath: machinesDir))?.isEmpty == true {
            try fm.removeItem(atPath: machinesDir)
        }
        for file in ["kvm-probe.serial", "sercon-port.bin"] {
            try? fm.removeItem(atPath: configuration.stateDirectory + "/" + file)
        }
        try fm.removeItem(atPath: configuration.stateFile)
        removed.append("state file \(configuration.stateFile)")
        return .removed(removed, leftovers: leftovers)
    }
}
