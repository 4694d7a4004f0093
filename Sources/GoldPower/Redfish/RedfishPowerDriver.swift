import Foundation
import GoldSpawn
import Logging

/// Where and how to reach one Redfish service.
public struct RedfishEndpoint: Sendable, Hashable, Codable {
    /// Base URL of the service, e.g. `https://10.0.0.5` (no trailing slash).
    public var baseURL: String
    /// The ComputerSystem's id under `/redfish/v1/Systems/`, often `1` or `System.Embedded.1`.
    public var systemID: String
    public var user: String
    public var password: String
    /// Accept a self-signed certificate (most BMCs have one).
    public var insecureTLS: Bool

    public init(baseURL: String, systemID: String, user: String, password: String, insecureTLS: Bool = true) {
        self.baseURL = baseURL
        self.systemID = systemID
        self.user = user
        self.password = password
        self.insecureTLS = insecureTLS
    }

    var systemURL: String { "\(baseURL)/redfish/v1/Systems/\(systemID)" }
}

/// Power and boot control through Redfish, by running `curl` (Debian package curl).
///
/// Power: `POST …/Actions/ComputerSystem.Reset` with `ResetType` On, ForceOff, or ForceRestart for a cycle of a
/// running machine (DSP0268 ResetType). Boot: `PATCH` of `Boot.BootSourceOverrideTarget` (Pxe, Hdd) and
/// `BootSourceOverrideEnabled` (Once, Continuous). Credentials go to curl in a mode-0600 config file, not on the
/// command line. Tested against recorded replies only: no Redfish simulator runs in the lab yet.
public struct RedfishPowerDriver: PowerDriver {
    public let machine: String
    public let endpoint: RedfishEndpoint
    public let timeout: Duration
    private let runner: any ProgramRunner
    private let logger: Logger

    public init(
        machine: String, endpoint: RedfishEndpoint, timeout: Duration = .seconds(30),
        runner: any ProgramRunner = SystemRunner(), logger: Logger = Logger(label: "gold.power.redfish")
    ) {
        self.machine = machine
        self.endpoint = endpoint
        self.timeout = timeout
        self.runner = runner
        self.logger = logger
    }

    public func status() async throws -> PowerState {
        let body = try await request(.status, "GET", endpoint.systemURL, json: nil)
        guard let state = RedfishReply.powerState(body) else {
            throw error(.unexpectedReply, .status, "no PowerState in \(endpoint.systemURL)", detail: body)
        }
        return state
    }

    public func powerOn() async throws { try await reset(.powerOn, "On") }

    public func powerOff() async throws { try await reset(.powerOff, "ForceOff") }

    public func powerCycle() async throws {
        try await reset(.powerCycle, try await status() == .off ? "On" : "ForceRestart")
    }

    public func setNextBoot(_ device: BootDevice, persistent: Bool) async throws {
        let target = device == .network ? "Pxe" : "Hdd"
        let enabled = persistent ? "Continuous" : "Once"
        let body = #"{"Boot":{"BootSourceOverrideTarget":"\#(target)","BootSourceOverrideEnabled":"\#(enabled)"}}"#
        _ = try await request(.setNextBoot, "PATCH", endpoint.systemURL, json: body)
    }

    private func reset(_ action: PowerAction, _ type: String) async throws {
        let url = endpoint.systemURL + "/Actions/ComputerSystem.Reset"
        _ = try await request(action, "POST", url, json: #"{"ResetType":"\#(type)"}"#)
    }

    /// curl arguments for one request; `config` holds the credentials.
    func arguments(method: String, url: String, json: String?, config: String) -> [String] {
        var args = ["-sS", "-K", config, "-X", method, "-H", "Accept: application/json", "-w", "\n%{http_code}"]
        let seconds = max(1, Int(timeout.components.seconds))
        args += ["--connect-timeout", "10", "--max-time", String(seconds)]
        if endpoint.insecureTLS { args.append("-k") }
        if let json { args += ["-H", "Content-Type: application/json", "--data-raw", json] }
        return args + [url]
    }

    private func request(_ action: PowerAction, _ method: String, _ url: String, json: String?) async throws -> String {
        let config = NSTemporaryDirectory() + "gold-redfish-\(UInt64.random(in: 0...UInt64.max)).conf"
        let escaped = "\(endpoint.user):\(endpoint.password)".replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
        guard FileManager.default.createFile(atPath: config, contents: Data(), attributes: [.posixPermissions: 0o600])
        else { throw error(.commandFailed, action, "cannot write curl config \(config)") }
        defer { unlink(config) }
        try Data("user = \"\(escaped)\"\n".utf8).write(to: URL(fileURLWithPath: config))
        logger.debug("redfish \(method) \(url)", metadata: ["machine": "\(machine)"])
        let result: InvocationResult
        do {
            result = try await runner.run(
                "curl", arguments(method: method, url: url, json: json, config: config), environment: [:],
                timeout: timeout + .seconds(5))
        } catch let failure as SpawnError where failure.reason == .notFound {
            throw error(.toolMissing, action, "curl is not installed (Debian package curl)")
        }
        // curl(1) EXIT CODES: 6 resolve, 7 connect, 28 timeout, 35/60 TLS.
        switch result.exitCode {
        case 0: break
        case 28: throw error(.timedOut, action, "no answer within \(timeout)", detail: result.stderr)
        case 6, 7: throw error(.bmcUnreachable, action, "cannot connect", detail: result.stderr)
        default: throw error(.commandFailed, action, "curl failed: \(result.summary)")
        }
        guard let (status, body) = RedfishReply.split(result.stdout) else {
            throw error(.unexpectedReply, action, "no HTTP status in curl output", detail: result.stdout)
        }
        switch status {
        case 200..<300: return body
        case 401, 403:
            throw error(.authenticationFailed, action, "HTTP \(status) for user \(endpoint.user): check credentials")
        default: throw error(.commandFailed, action, "HTTP \(status): \(RedfishReply.errorMessage(body))")
        }
    }

    private func error(_ code: PowerError.Code, _ action: PowerAction, _ message: String, detail: String? = nil)
        -> PowerError
    {
        PowerError(
            code: code, machine: machine, bmc: endpoint.baseURL, action: action, message: message, detail: detail)
    }
}
