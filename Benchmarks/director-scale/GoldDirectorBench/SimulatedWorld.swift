import Foundation
import GoldAPI
import GoldCore
import GoldDirector
import GoldHTTPClient
import GoldRunner
import GoldWorkflow
import Synchronization

/// Simulated machines, their agents and the deploy server. The director runs its own actions (power, compile, image
/// builds, checks from the build server) through this `MachineActions`; everything a real machine, agent or deploy
/// server would tell the director goes over HTTP to the director's API, the way theirs does:
/// boot script and `POST /v1/boot/fetches` (deploy server), `POST /v1/machines/M/check-in` with the enrolment token
/// from the boot script (netboot agent), the long-polled `GET /v1/agent/commands`, command results and progress, and
/// `POST /v1/machines/M/boot-success` (installed agent). Each answer comes after a random delay.
public final class SimulatedWorld: MachineActions, Sendable {
    let recorder: TransitionRecorder
    /// How long a command or a boot takes, in milliseconds.
    let delays: ClosedRange<Double>
    /// Image writes, torture tests, compiles and image builds take this many times longer.
    let longFactor: Double
    let poll: Int
    let serverToken: String
    private let director = Mutex("")
    private let installedTokens = Mutex<[String: String]>([:])
    private let agents = Mutex<[String: Task<Void, Never>]>([:])
    private let failures = Mutex<(count: Int, first: [String])>((0, []))

    init(recorder: TransitionRecorder, delays: ClosedRange<Double>, longFactor: Double, poll: Int, serverToken: String)
    {
        self.recorder = recorder
        self.delays = delays
        self.longFactor = longFactor
        self.poll = poll
        self.serverToken = serverToken
    }

    func setDirector(_ url: String) { director.withLock { $0 = url } }
    func setInstalledToken(_ token: String, machine: String) { installedTokens.withLock { $0[machine] = token } }
    func installedToken(_ machine: String) -> String { installedTokens.withLock { $0[machine] ?? "" } }

    var failureCount: Int { failures.withLock { $0.count } }
    var firstFailures: [String] { failures.withLock { $0.first } }

    func fail(_ message: String) {
        failures.withLock {
            $0.count += 1
            if $0.first.count < 20 { $0.first.append(message) }
        }
    }

    func pause(_ factor: Double = 1) async {
        try? await Task.sleep(for: .milliseconds(Double.random(in: delays) * factor))
    }

    // MARK: - the director's own actions

    public func execute(_ action: Action, machine: MachineRecord, workflow: Workflow) async -> WorkflowEvent.Outcome {
        await execute(action, machine: machine, workflow: workflow) { _, _ in }
    }

    public func execute(
        _ action: Action, machine: MachineRecord, workflow: Workflow, progress: @escaping ActionProgress
    ) async -> WorkflowEvent.Outcome {
        let id = workflow.current?.commandID ?? ""
        let outcome: WorkflowEvent.Outcome
        switch action {
        case .power(let power):
            await pause()
            outcome = .succeeded(detail: "power \(power.rawValue) (simulated BMC)")
            if [.on, .cycle, .onOrCycle].contains(power) {
                recorder.outcomeDelivered(command: id)
                startMachine(machine.name, booting: true)
                return outcome
            }
        case .compile:
            await pause(longFactor / 2)
            await progress(0.5, "kernel: make -j16 bzImage modules")
            await pause(longFactor / 2)
            outcome = .succeeded(
                detail: "compiled (simulated)",
                outputs: [
                    "kernel.release": "6.1.0-gold-\(machine.spec.role ?? "x")",
                    "kernel.artifact": String(repeating: "ab", count: 32),
                ])
        case .buildImage, .recordImageVersion:
            await pause(longFactor / 2)
            await progress(0.5, "ext4: populating /")
            await pause(longFactor / 2)
            outcome = .succeeded(detail: "image version 1 (simulated)", outputs: ["image.version": "1"])
        case .serverChecks:
            await pause()
            outcome = .succeeded(detail: "passed: ssh, tcp :9100 (simulated)")
        default:
            outcome = .failed(reason: "the director does not run \(action) itself")
        }
        recorder.outcomeDelivered(command: id)
        return outcome
    }

    public func evidence(machine: MachineRecord) async -> [String] { ["serial: (simulated machine)"] }

    // MARK: - machines

    /// The machine powers on: it boots from the network or its disk, as the director's boot script says, and its agent
    /// then takes commands until stopped. A machine already running is reset.
    func startMachine(_ machine: String, booting: Bool) {
        let task = Task {
            var token = installedToken(machine)
            if booting { token = await boot(machine) }
            await agentLoop(machine, token: token)
        }
        agents.withLock { $0.updateValue(task, forKey: machine)?.cancel() }
    }

    func stopMachine(_ machine: String) {
        agents.withLock { $0.removeValue(forKey: machine)?.cancel() }
    }

    func stopAll() {
        agents.withLock { tasks in
            for task in tasks.values { task.cancel() }
            tasks.removeAll()
        }
    }

    /// Firmware → PXE → boot script from the director (through the deploy server) → netboot or local disk.
    /// Returns the token the agent goes on with.
    func boot(_ machine: String) async -> String {
        await pause()
        guard let index = Int(machine.split(separator: "-").last ?? ""),
            let mac = SimulatedFleet.machine(index).macs.first
        else {
            fail("\(machine): not a simulated machine name")
            return installedToken(machine)
        }
        guard
            let script = await call(
                "GET",
                "/v1/boot/script?mac=\(mac)&loader=ipxe&files=http://10.0.0.2:8081&director=http://10.0.0.2:8081",
                token: serverToken)
        else { return installedToken(machine) }
        guard let start = script.text.range(of: "gold.token=") else {
            // Local disk: the installed system comes up and says so.
            await pause()
            recorder.observationDelivered(machine: machine, .bootSuccess(kernel: nil))
            _ = await call(
                "POST", "/v1/machines/\(machine)/boot-success", token: installedToken(machine),
                body: #"{"kernel":"6.1.0-28-amd64"}"#)
            return installedToken(machine)
        }
        let enrolment = String(script.text[start.upperBound...].prefix { !$0.isWhitespace })
        let fetches = ["undionly.kpxe", "boot.ipxe", "netboot/vmlinuz", "netboot/initrd.img"].map { file in
            BootFetch(
                mac: mac.description, address: "10.0.0.\(index % 250 + 2)", file: file,
                protocolName: file.hasSuffix("kpxe") ? "tftp" : "http",
                bytes: 1 << 20, outcome: "ok", durationMilliseconds: 40)
        }
        recorder.observationDelivered(machine: machine, .bootFetch)
        _ = await call(
            "POST", "/v1/boot/fetches", token: serverToken,
            body: try? String(decoding: JSONEncoder().encode(fetches), as: UTF8.self))
        // The netboot kernel boots; its agent checks in with the enrolment token from the kernel command line.
        await pause()
        struct CheckIn: Codable { var inventory: JSONValue }
        struct Session: Codable { var token: String }
        recorder.observationDelivered(machine: machine, .netbootCheckIn)
        let body = try? String(
            decoding: JSONEncoder().encode(CheckIn(inventory: SimulatedFleet.inventory(index))), as: UTF8.self)
        guard let answer = await call("POST", "/v1/machines/\(machine)/check-in", token: enrolment, body: body),
            let session = try? JSONDecoder().decode(Session.self, from: Data(answer.body))
        else { return installedToken(machine) }
        return session.token
    }

    /// The agent: long-polls its queue and runs each command after a delay, as `gold-agent` does.
    func agentLoop(_ machine: String, token start: String) async {
        var token = start
        while !Task.isCancelled {
            guard
                let answer = await call(
                    "GET", "/v1/agent/commands?machine=\(machine)&wait=\(poll)", token: token,
                    timeout: .seconds(poll + 60)),
                let commands = try? JSONDecoder().decode([Command].self, from: Data(answer.body))
            else {
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            for command in commands where !Task.isCancelled {
                token = await run(command, machine: machine, token: token)
            }
        }
    }

    struct Result: Codable {
        var machine: String
        var ok: Bool
        var detail: String?
        var outputs: [String: String]?
    }

    func report(_ command: Command, machine: String, token: String, detail: String, outputs: [String: String] = [:])
        async
    {
        recorder.outcomeDelivered(command: command.id)
        let body = try? String(
            decoding: JSONEncoder().encode(Result(machine: machine, ok: true, detail: detail, outputs: outputs)),
            as: UTF8.self)
        _ = await call("POST", "/v1/agent/commands/\(command.id)/result", token: token, body: body)
    }

    func run(_ command: Command, machine: String, token: String) async -> String {
        guard case .agent(let request) = command.action else {
            fail("\(machine): the agent was sent \(command.action)")
            return token
        }
        switch request {
        case .writeImage(let version):
            for fraction in [0.25, 0.5, 0.75] {
                await pause(longFactor / 4)
                _ = await call(
                    "POST", "/v1/agent/commands/\(command.id)/progress", token: token,
                    body:
                        #"{"machine":"\#(machine)","fraction":\#(fraction),"detail":"/dev/nvme0n1: \#(Int(fraction * 900)) chunks fetched"}"#
                )
            }
            await pause(longFactor / 4)
            await report(
                command, machine: machine, token: token, detail: "/dev/nvme0n1 verified (simulated)",
                outputs: ["image.written": "\(version ?? 1)"])
            return token
        case .reboot(let netboot):
            await report(command, machine: machine, token: token, detail: "acked")
            if netboot { return await boot(machine) }
            await pause()
            recorder.observationDelivered(machine: machine, .bootSuccess(kernel: nil))
            _ = await call(
                "POST", "/v1/machines/\(machine)/boot-success", token: installedToken(machine),
                body: #"{"kernel":"6.1.0-28-amd64"}"#)
            return installedToken(machine)
        case .torture:
            await pause(longFactor)
            await report(command, machine: machine, token: token, detail: "stress-ng passed (simulated)")
            return token
        default:
            await pause()
            await report(command, machine: machine, token: token, detail: "done (simulated)")
            return token
        }
    }

    /// One request to the director; nil (and a counted failure) unless it answers 2xx.
    func call(_ method: String, _ path: String, token: String, body: String? = nil, timeout: Duration = .seconds(60))
        async -> HTTPClientResponse?
    {
        let base = director.withLock { $0 }
        do {
            let response = try await HTTPClient.send(
                method, base + path,
                headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                body: body.map { Array($0.utf8) }, timeout: timeout)
            guard (200..<300).contains(response.status) else {
                fail("\(method) \(path): \(response.status) \(response.text.prefix(200))")
                return nil
            }
            return response
        } catch {
            if !Task.isCancelled { fail("\(method) \(path): \(error)") }
            return nil
        }
    }
}
