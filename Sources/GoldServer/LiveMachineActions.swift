import Foundation
import GoldAPI
import GoldCore
import GoldImage
import GoldPower
import GoldRunner
import GoldWorkflow
import Logging

/// The director's side effects for workflows: power through the machine's driver, checks from the build server,
/// and compile/image steps as far as those roles are built.
public struct LiveMachineActions: MachineActions {
    public let logger: Logger
    let images: ImageActions
    let compiler: CompileActions

    public init(
        config: ServerConfig, store: any GoldStore, compile: CompileHub? = nil, localCompileWorker: Bool = true,
        logger: Logger
    ) {
        self.logger = logger
        self.images = ImageActions(config: config, store: store, artifacts: compile?.artifacts, logger: logger)
        self.compiler = CompileActions(hub: compile, logger: logger, localWorker: localCompileWorker)
    }

    public func execute(_ action: Action, machine: MachineRecord, workflow: Workflow) async -> WorkflowEvent.Outcome {
        await execute(action, machine: machine, workflow: workflow) { _, _ in }
    }

    public func execute(
        _ action: Action, machine: MachineRecord, workflow: Workflow, progress: @escaping ActionProgress
    ) async -> WorkflowEvent.Outcome {
        switch action {
        case .power(let power):
            return await self.power(power, machine: machine)
        case .serverChecks:
            return await ServerChecks.run(machine.spec)
        case .compile:
            return await compiler.compile(machine, context: workflow.context, progress: progress)
        case .buildImage:
            let images = self.images
            return await withTaskExecutorPreference(BlockingExecutor.shared) {
                await images.build(
                    machine, change: .provision, description: "\(workflow.kind.rawValue) \(workflow.id)",
                    context: workflow.context)
            }
        case .recordImageVersion(let change):
            let images = self.images
            return await withTaskExecutorPreference(BlockingExecutor.shared) {
                await images.build(
                    machine, change: ImageChange(rawValue: change) ?? .capture,
                    description: "\(workflow.kind.rawValue) \(workflow.id)",
                    context: workflow.context)
            }
        default:
            return .failed(reason: "the director does not run \(action) itself")
        }
    }

    func power(_ action: GoldWorkflow.PowerAction, machine: MachineRecord) async -> WorkflowEvent.Outcome {
        do {
            let driver = try Self.driver(for: machine.spec, logger: logger)
            switch action {
            case .on: try await driver.powerOn()
            case .off: try await driver.powerOff()
            case .cycle: try await driver.powerCycle()
            case .onOrCycle:
                if try await driver.status() == .on {
                    try await driver.powerCycle()
                } else {
                    try await driver.powerOn()
                }
            case .bootDisk:
                try await driver.setNextBoot(.disk, persistent: false)
            case .bootNetwork:
                try await driver.setNextBoot(.network, persistent: false)
            }
            return .succeeded(detail: "power \(action.rawValue) through \(machine.spec.power.driver.rawValue)")
        } catch {
            return .failed(reason: "power \(action.rawValue) of \(machine.name) failed: \(error)")
        }
    }

    /// The machine's power driver from its fleet entry.
    public static func driver(for spec: MachineSpec, logger: Logger) throws -> any PowerDriver {
        switch spec.power.driver {
        case .qemu:
            guard let socket = spec.power.address else {
                throw GoldError(
                    .invalidInput, "the qemu driver needs the QMP socket path",
                    at: "machines[\(spec.name)].power.address")
            }
            return QEMUPowerDriver(machine: spec.name, socketPath: socket, logger: logger)
        case .ipmi:
            guard let address = spec.power.address, let user = spec.power.username else {
                throw GoldError(
                    .invalidInput, "the ipmi driver needs address and username", at: "machines[\(spec.name)].power")
            }
            let parts = address.split(separator: ":", omittingEmptySubsequences: false)
            guard let host = parts.first, !host.isEmpty, parts.count <= 2 else {
                throw GoldError(
                    .invalidInput, "the ipmi address '\(address)' is not HOST or HOST:PORT",
                    at: "machines[\(spec.name)].power.address")
            }
            let port = parts.count > 1 ? Int(parts[1]) : 623
            guard let port, (1...65535).contains(port) else {
                throw GoldError(
                    .invalidInput, "the ipmi address '\(address)' has no port 1-65535",
                    at: "machines[\(spec.name)].power.address")
            }
            let password =
                try spec.power.passwordFile.map {
                    try String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                } ?? ""
            return IPMIPowerDriver(
                machine: spec.name,
                endpoint: IPMIEndpoint(host: String(host), port: port, user: user, password: password), logger: logger)
        case .redfish:
            throw GoldError(
                .unavailable, "the redfish driver is not built yet", at: "machines[\(spec.name)].power.driver")
        case .manual:
            return ManualPowerDriver(machine: spec.name)
        }
    }

    public func defaults(for kind: WorkflowKind, machine: MachineRecord) async -> [String: String] {
        guard kind == .restore, let version = try? images.imageStore.currentVersion(machine: machine.name) else {
            return [:]
        }
        return [ContextKey.imageVersion: "\(version)"]
    }

    public func evidence(machine: MachineRecord) async -> [String] {
        // In the lab the serial console is logged beside the QMP socket.
        guard machine.spec.power.driver == .qemu, let socket = machine.spec.power.address else { return [] }
        let log = (socket as NSString).deletingLastPathComponent + "/serial.log"
        guard let data = FileManager.default.contents(atPath: log) else { return [] }
        // Firmware writes stray bytes: decode leniently.
        // "\r\n" is one Character in Swift: split on every kind of line end.
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).suffix(3000)
        // A panic scrolls away while the old kernel boots again: keep what matters from further back too.
        let markers = ["Kernel panic", "Oops", "BUG:", "VFS:", "Call Trace", "end Kernel panic"]
        let important = lines.dropLast(40).filter { line in markers.contains { line.contains($0) } }.suffix(20)
        return important.map { "serial (earlier): \($0)" } + lines.suffix(40).map { "serial: \($0)" }
    }
}

/// Checks from the build server: a TCP connect, an HTTP GET expecting 2xx, an ssh banner.
enum ServerChecks {
    static func run(_ spec: MachineSpec) async -> WorkflowEvent.Outcome {
        let host =
            spec.network.address.flatMap { IPv4CIDR($0) }?.address.description ?? spec.network.hostname ?? spec.name
        var passed: [String] = []
        for check in spec.checks {
            switch check.kind {
            case .tcp, .ssh:
                let target =
                    check.kind == .ssh && !check.target.contains(":")
                    ? "\(check.target.isEmpty ? host : check.target):22" : check.target
                let (h, p) = split(target, defaultHost: host)
                guard let port = p else {
                    return .failed(reason: "check \(check.kind.rawValue) '\(check.target)': no port")
                }
                do {
                    let banner = try await TCPProbe.connect(host: h, port: port, readBanner: check.kind == .ssh)
                    if check.kind == .ssh && !(banner ?? "").hasPrefix("SSH-") {
                        return .failed(reason: "check ssh \(h):\(port): no SSH banner (got '\(banner ?? "")')")
                    }
                    passed.append("\(check.kind.rawValue) \(h):\(port)")
                } catch {
                    return .failed(reason: "check \(check.kind.rawValue) \(h):\(port) failed: \(error)")
                }
            case .http:
                do {
                    let response = try await GoldHTTPClientBridge.get(check.target)
                    guard (200..<300).contains(response) else {
                        return .failed(reason: "check http \(check.target): status \(response)")
                    }
                    passed.append("http \(check.target)")
                } catch {
                    return .failed(reason: "check http \(check.target) failed: \(error)")
                }
            case .command:
                continue  // run by the agent on the machine
            }
        }
        return .succeeded(
            detail: passed.isEmpty ? "no checks from the build server" : "passed: \(passed.joined(separator: ", "))")
    }

    static func split(_ target: String, defaultHost: String) -> (String, Int?) {
        guard let colon = target.lastIndex(of: ":") else { return (target, nil) }
        let host = target[..<colon].isEmpty ? defaultHost : String(target[..<colon])
        return (host, Int(target[target.index(after: colon)...]))
    }
}
