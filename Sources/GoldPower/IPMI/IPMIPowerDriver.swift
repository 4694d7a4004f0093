import Foundation
import GoldSpawn
import Logging

/// Where and how to reach one IPMI BMC over LAN (IPMI v2.0 RMCP+, `ipmitool -I lanplus`).
public struct IPMIEndpoint: Sendable, Hashable, Codable {
    public var host: String
    /// UDP port; the standard is 623 (IPMI v2.0 §13.1).
    public var port: Int
    public var user: String
    public var password: String
    /// RMCP+ cipher suite (`-C`); nil lets ipmitool choose (it asks the BMC, which costs seconds on BMCs that do not
    /// answer "Get Channel Cipher Suites", such as ipmi_sim: use 3 there).
    public var cipherSuite: Int?

    public init(host: String, port: Int = 623, user: String, password: String, cipherSuite: Int? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.cipherSuite = cipherSuite
    }
}

/// Power and boot control through a BMC, by running `ipmitool` (Debian package `ipmitool`).
///
/// The password reaches ipmitool through the environment (`-E`, `IPMI_PASSWORD`), never the command line.
/// `powerCycle()` powers an off machine on (IPMI's "power cycle" does nothing to a machine that is off).
public struct IPMIPowerDriver: PowerDriver {
    public let machine: String
    public let endpoint: IPMIEndpoint
    /// Deadline for one ipmitool run (it retries on its own: `-R 2 -N 2`).
    public let timeout: Duration
    private let runner: any ProgramRunner
    private let logger: Logger

    public init(
        machine: String, endpoint: IPMIEndpoint, timeout: Duration = .seconds(20),
        runner: any ProgramRunner = SystemRunner(), logger: Logger = Logger(label: "gold.power.ipmi")
    ) {
        self.machine = machine
        self.endpoint = endpoint
        self.timeout = timeout
        self.runner = runner
        self.logger = logger
    }

    public func status() async throws -> PowerState {
        switch try await run(.status, ["chassis", "power", "status"]) {
        case .power(let state): return state
        case let other: throw unexpected(.status, other)
        }
    }

    public func powerOn() async throws { try await control(.powerOn, "on") }

    public func powerOff() async throws { try await control(.powerOff, "off") }

    public func powerCycle() async throws {
        if try await status() == .off {
            try await control(.powerCycle, "on")
        } else {
            try await control(.powerCycle, "cycle")
        }
    }

    public func setNextBoot(_ device: BootDevice, persistent: Bool) async throws {
        // IPMI v2.0 §28.12 boot option parameter 5 (boot flags): ipmitool's "pxe" and "disk" selectors.
        var args = ["chassis", "bootdev", device == .network ? "pxe" : "disk"]
        if persistent { args.append("options=persistent") }
        switch try await run(.setNextBoot, args) {
        case .bootDeviceSet: return
        case let other: throw unexpected(.setNextBoot, other)
        }
    }

    /// The arguments before the command, without the password.
    public var connectionArguments: [String] {
        var args = ["-I", "lanplus", "-H", endpoint.host, "-p", String(endpoint.port), "-U", endpoint.user, "-E"]
        if let suite = endpoint.cipherSuite { args += ["-C", String(suite)] }
        return args + ["-R", "2", "-N", "2", "-v"]
    }

    private var bmc: String { "ipmi://\(endpoint.host):\(endpoint.port)" }

    private func control(_ action: PowerAction, _ verb: String) async throws {
        switch try await run(action, ["chassis", "power", verb]) {
        case .powerControlAccepted: return
        case let other: throw unexpected(action, other)
        }
    }

    private func run(_ action: PowerAction, _ command: [String]) async throws -> IPMIToolOutput.Outcome {
        logger.debug(
            "ipmitool \(command.joined(separator: " "))", metadata: ["machine": "\(machine)", "bmc": "\(bmc)"])
        let result: InvocationResult
        do {
            result = try await runner.run(
                "ipmitool", connectionArguments + command, environment: ["IPMI_PASSWORD": endpoint.password],
                timeout: timeout)
        } catch let failure as SpawnError where failure.reason == .notFound {
            throw PowerError(
                code: .toolMissing, machine: machine, bmc: bmc, action: action,
                message: "ipmitool is not installed (Debian package ipmitool)")
        }
        if result.timedOut {
            throw PowerError(
                code: .timedOut, machine: machine, bmc: bmc, action: action,
                message: "ipmitool did not finish within \(timeout)", detail: result.stderr)
        }
        let outcome = IPMIToolOutput.parse(exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr)
        if case .failed(let failure) = outcome {
            throw error(action, failure, stderr: result.stderr)
        }
        return outcome
    }

    private func error(_ action: PowerAction, _ failure: IPMIToolOutput.Failure, stderr: String) -> PowerError {
        switch failure {
        case .authentication(let line):
            PowerError(
                code: .authenticationFailed, machine: machine, bmc: bmc, action: action,
                message: "the BMC refused user \(endpoint.user): \(line); check the fleet's BMC credentials")
        case .unreachable(let line):
            PowerError(
                code: .bmcUnreachable, machine: machine, bmc: bmc, action: action,
                message: "no IPMI answer: \(line)")
        case .rejected(let line):
            PowerError(code: .commandFailed, machine: machine, bmc: bmc, action: action, message: line)
        case .unrecognised(let text):
            PowerError(
                code: .unexpectedReply, machine: machine, bmc: bmc, action: action, message: text, detail: stderr)
        }
    }

    private func unexpected(_ action: PowerAction, _ outcome: IPMIToolOutput.Outcome) -> PowerError {
        PowerError(
            code: .unexpectedReply, machine: machine, bmc: bmc, action: action,
            message: "ipmitool answered \(outcome) to \(action.rawValue)")
    }
}
