import Foundation
import GoldCore
import GoldWorkflow
import Logging
import ServiceLifecycle

/// Runs workflows: reduces events with the pure engine, saves every transition with the commands it issued, then runs
/// them. Observations (boot fetches, check-ins, boot success) are read from the event log, so a restart misses none.
public actor WorkflowRunner: WorkflowControl, Service {
    public typealias Store = GoldStore & WorkflowStore

    let store: any Store
    let actions: any MachineActions
    let logger: Logger
    let clock: @Sendable () -> Date
    let timings: StepTimings
    let tickInterval: Duration
    /// How often a waiting agent's queue is read again though nothing woke it (a command started by another director).
    let agentRecheck: Duration
    let wakeups = AgentWakeups()
    /// Transitions of one workflow take turns; different workflows' run side by side.
    let lock = KeyedSerialLock()
    let rolloutLock = SerialLock()
    private var eventCursor: Int64?
    private var running: Set<String> = []
    /// Commands launched and not yet taken by the executor, the executor waiting for one, and how many are launched
    /// and not yet ended (``drain()`` waits for none).
    private var launched: [Command] = []
    private var launchWaiter: CheckedContinuation<Command?, Never>?
    private var executorRunning = false
    private var executorStopping = false
    private var stopWhenIdle = false
    private var inFlight = 0
    private var drainWaiters: [CheckedContinuation<Void, Never>] = []
    /// Rollout targets whose workflow this process is starting right now.
    var starting: Set<String> = []

    public init(
        store: any Store, actions: any MachineActions, timings: StepTimings = StepTimings(), logger: Logger,
        tickInterval: Duration = .seconds(1), agentRecheck: Duration = .seconds(5),
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.agentRecheck = agentRecheck
        self.store = store
        self.actions = actions
        self.timings = timings
        self.logger = logger
        self.tickInterval = tickInterval
        self.clock = clock
    }

    // MARK: - WorkflowControl

    public func start(_ kind: WorkflowKind, machine: String, parameters: [String: String], actor: String) async throws
        -> Workflow
    {
        try await start(kind, machine: machine, parameters: parameters, actor: actor, id: nil)
    }

    func start(_ kind: WorkflowKind, machine: String, parameters: [String: String], actor: String, id fixedID: String?)
        async throws -> Workflow
    {
        guard let record = try await store.machine(named: machine) else {
            throw GoldError(.notFound, "no machine named '\(machine)'", at: "machine")
        }
        let parameters = await actions.defaults(for: kind, machine: record).merging(parameters) { _, given in given }
        let id =
            fixedID ?? "wf-" + String(UInt64(clock().timeIntervalSince1970 * 1000), radix: 36) + "-"
            + String(UInt32.random(in: .min ... .max), radix: 36)
        let workflow = Workflow(
            id: id, kind: kind, machine: machine,
            steps: Runbook.steps(for: kind, timings: timings.applying(record.spec.deadlines), parameters: parameters),
            context: parameters, now: clock())
        try await store.createWorkflow(workflow, actor: actor)
        return try await transition(id, .start, actor: actor) ?? workflow
    }

    public func act(_ event: WorkflowEvent, on id: String, actor: String) async throws -> Workflow {
        guard let before = try await store.workflow(id: id) else { throw GoldError(.notFound, "no workflow '\(id)'") }
        switch event {
        case .retry, .resolve:
            guard before.status == .intervention else {
                throw GoldError(.conflict, "workflow \(id) is \(before.status.rawValue), not waiting for a person")
            }
        case .abort:
            guard !before.isFinished else {
                throw GoldError(.conflict, "workflow \(id) already \(before.status.rawValue)")
            }
        default:
            throw GoldError(.invalidInput, "a person may retry, resolve or abort")
        }
        return try await transition(id, event, actor: actor) ?? before
    }

    public func complete(command id: String, machine: String, outcome: WorkflowEvent.Outcome, actor: String)
        async throws
    {
        guard let record = try await store.command(id: id), record.command.machine == machine else {
            throw GoldError(.notFound, "no command '\(id)' for machine \(machine)")
        }
        guard record.state != .done else { return }  // a repeated report: already counted
        try await store.finishCommand(id: id, outcome: outcome)
        _ = try await transition(record.command.workflow, .completed(commandID: id, outcome: outcome), actor: actor)
    }

    public func progress(command id: String, machine: String, fraction: Double, detail: String?) async throws {
        guard let record = try await store.command(id: id), record.command.machine == machine else {
            throw GoldError(.notFound, "no command '\(id)' for machine \(machine)")
        }
        _ = try await transition(
            record.command.workflow, .progress(commandID: id, fraction: fraction, detail: detail),
            actor: "agent:\(machine)")
    }

    public func agentCommands(machine: String) async throws -> [Command] {
        try await store.openCommands(machine: machine).filter { record in
            guard record.state == .started, case .agent = record.command.action else { return false }
            return true
        }.map(\.command)
    }

    public func nextAgentCommands(machine: String, wait: Duration) async throws -> [Command] {
        let deadline = ContinuousClock.now + wait
        while true {
            let generation = await wakeups.generation(machine)
            let commands = try await agentCommands(machine: machine)
            let now = ContinuousClock.now
            if !commands.isEmpty || now >= deadline { return commands }
            await wakeups.wait(machine, after: generation, until: min(deadline, now + agentRecheck))
            try Task.checkCancellation()
        }
    }

    // MARK: - transitions

    /// Reduces one event on the stored state, saves the result with its commands, then runs them. `observedAt`: when an
    /// observation read from the event log happened; it counts only for a step already running then, and ends it then.
    @discardableResult
    func transition(_ id: String, _ event: WorkflowEvent, actor: String, observedAt: Date? = nil) async throws
        -> Workflow?
    {
        let (workflow, commands) = try await lock.withLock(id) { () async throws -> (Workflow?, [Command]) in
            guard var workflow = try await self.store.workflow(id: id) else { return (nil, []) }
            let before = workflow
            var now = self.clock()
            if let observedAt {
                // Store times are whole milliseconds: 1 ms of slack.
                guard let started = workflow.current?.startedAt, observedAt.timeIntervalSince(started) >= -0.001 else {
                    return (workflow, [])
                }
                now = max(observedAt, started)
            }
            let commands = WorkflowEngine.reduce(&workflow, event, now: now)
            if commands.isEmpty && Self.sameExceptTime(before, workflow) { return (workflow, []) }
            if workflow.status == .intervention, before.status != .intervention,
                let machine = try await self.store.machine(named: workflow.machine)
            {
                workflow.intervention?.evidence = await self.evidence(
                    machine, since: before.current?.startedAt ?? workflow.createdAt)
            }
            try await self.store.saveWorkflow(
                workflow, commands: commands, events: Self.describe(before, workflow, actor: actor))
            return (workflow, commands)
        }
        for command in commands { launch(command) }
        return workflow
    }

    static func sameExceptTime(_ a: Workflow, _ b: Workflow) -> Bool {
        var b = b
        b.updatedAt = a.updatedAt
        return a == b
    }

    // MARK: - executing commands

    /// Hands a saved command to the executor (``executeCommands()``), which runs it in its task group. Until an
    /// executor runs, commands wait here; a process that stops first loses none: the store holds them as issued.
    func launch(_ command: Command) {
        inFlight += 1
        if let waiter = launchWaiter {
            launchWaiter = nil
            waiter.resume(returning: command)
        } else {
            launched.append(command)
        }
    }

    private func nextLaunched() async -> Command? {
        if !launched.isEmpty { return launched.removeFirst() }
        if executorStopping || (stopWhenIdle && inFlight == 0) { return nil }
        return await withCheckedContinuation { launchWaiter = $0 }
    }

    /// Ends ``executeCommands()`` once what it started has ended. Commands not yet started stay issued in the store:
    /// the next start's recovery runs them.
    func stopExecuting() {
        executorStopping = true
        inFlight -= launched.count
        launched.removeAll()
        launchWaiter?.resume(returning: nil)
        launchWaiter = nil
        if inFlight == 0 { releaseDrainers() }
    }

    private func commandEnded() {
        inFlight -= 1
        guard inFlight == 0 else { return }
        releaseDrainers()
        if stopWhenIdle {
            launchWaiter?.resume(returning: nil)
            launchWaiter = nil
        }
    }

    private func releaseDrainers() {
        for waiter in drainWaiters { waiter.resume() }
        drainWaiters.removeAll()
    }

    /// Returns when every launched command has run, including those their completions launched: what a test awaits
    /// instead of sleeping. (An agent command has run once it is queued for the agent.) With no executor running (a
    /// test drives the runner by hand), this call is the executor until then.
    public func drain() async {
        if !executorRunning { return await executeCommands(untilIdle: true) }
        if inFlight == 0 { return }
        await withCheckedContinuation { drainWaiters.append($0) }
    }

    /// Runs launched commands, each as a child task of this call, until ``stopExecuting()`` (or, `untilIdle`, until
    /// none is in flight); then waits for those running. Cancelling this call cancels them: a command cancelled
    /// mid-way records no outcome (it stays started, and the next start's recovery settles it as unknown, as after a
    /// crash).
    func executeCommands(untilIdle: Bool = false) async {
        executorRunning = true
        executorStopping = false
        stopWhenIdle = untilIdle
        defer { executorRunning = false }
        await withDiscardingTaskGroup { group in
            while let command = await nextLaunched() {
                group.addTask {
                    await self.run(command)
                    await self.commandEnded()
                }
            }
        }
    }

    func run(_ command: Command) async {
        do {
            guard try await store.startCommand(id: command.id) else { return }
            let outcome: WorkflowEvent.Outcome
            switch command.action {
            case .agent:
                await wakeups.wake(command.machine)
                return  // the agent takes it from its queue and reports the outcome
            case .wait:
                return
            case .setNextBoot(let next):
                outcome = await Self.outcome {
                    try await self.store.setNextBoot(
                        machine: command.machine, next, actor: "workflow \(command.workflow)")
                }
            case .setState(let state):
                outcome = await Self.outcome {
                    try await self.store.setState(
                        machine: command.machine, state, actor: "workflow \(command.workflow)")
                }
            default:
                guard let machine = try await store.machine(named: command.machine),
                    let workflow = try await store.workflow(id: command.workflow)
                else {
                    outcome = .failed(reason: "machine or workflow no longer exists")
                    break
                }
                outcome = await actions.execute(command.action, machine: machine, workflow: workflow) {
                    fraction, detail in
                    _ = try? await self.transition(
                        command.workflow, .progress(commandID: command.id, fraction: fraction, detail: detail),
                        actor: "director")
                }
            }
            // Stopped by a shutdown: what the action did is not known. The command stays started, as after a crash.
            if Task.isCancelled { return }
            try await store.finishCommand(id: command.id, outcome: outcome)
            try await transition(
                command.workflow, .completed(commandID: command.id, outcome: outcome),
                actor: "workflow \(command.workflow)")
        } catch {
            logger.error("command failed to run", metadata: ["command": "\(command.id)", "error": "\(error)"])
        }
    }

    static func outcome(_ body: @Sendable () async throws -> Void) async -> WorkflowEvent.Outcome {
        do {
            try await body()
            return .succeeded()
        } catch {
            return .failed(reason: "\(error)")
        }
    }

    /// The machine's recent boot events and the adapters' evidence (the serial console's tail in the lab).
    func evidence(_ machine: MachineRecord, since: Date) async -> [String] {
        var lines = await actions.evidence(machine: machine).map { String($0.prefix(300)) }
        if let workflow = try? await store.listWorkflows(machine: machine.name, activeOnly: true, limit: 1).first,
            let logs = workflow.context["logs"]
        {
            lines += logs.split(separator: "\n").suffix(60).map { "log: \($0)" }
        }
        if let first = try? await store.firstEventID(since: since.addingTimeInterval(-60)),
            let events = try? await store.events(after: max(first - 1, 0), machine: machine.name, limit: 200)
        {
            lines += events.filter {
                $0.kind.hasPrefix("boot.") || $0.kind.hasPrefix("machine.") || $0.kind.hasPrefix("agent.")
            }
            .suffix(40).map { "event \($0.id) \($0.kind): \($0.message)" }
        }
        return lines
    }

    /// Events for people: each step that started, succeeded or failed, and the workflow's end.
    static func describe(_ before: Workflow, _ after: Workflow, actor: String) -> [NewEvent] {
        var events: [NewEvent] = []
        func runs(_ w: Workflow) -> [String: Workflow.StepRun] {
            var all: [String: Workflow.StepRun] = [:]
            for (i, run) in w.steps.enumerated() { all["\(i)"] = run }
            // A recovery run keeps its key when it moves from `recovery` to `recovered`.
            for (i, run) in ((w.recovered ?? []) + (w.recovery ?? [])).enumerated() { all["r\(i)"] = run }
            return all
        }
        let old = runs(before)
        for (key, run) in runs(after).sorted(by: { $0.key < $1.key }) {
            let previous = old[key]
            guard previous?.state != run.state || previous?.attempts != run.attempts else { continue }
            let name = run.definition.name
            switch run.state {
            case .running:
                events.append(
                    NewEvent(
                        actor: actor, kind: "workflow.step.started", machine: after.machine,
                        message: "\(after.id): \(name)"
                            + (run.attempts > 1 ? " (attempt \(run.attempts), after: \(run.detail ?? "failure"))" : ""))
                )
            case .succeeded:
                events.append(
                    NewEvent(
                        actor: actor, kind: "workflow.step.succeeded", machine: after.machine,
                        message: "\(after.id): \(name)" + (run.detail.map { ": \($0)" } ?? "")))
            case .failed:
                events.append(
                    NewEvent(
                        actor: actor, kind: "workflow.step.failed", machine: after.machine,
                        message: "\(after.id): \(name): \(run.detail ?? "failed")"))
            case .pending:
                break
            }
        }
        if before.status != after.status {
            var message = "\(after.id) (\(after.kind.rawValue)) \(after.status.rawValue)"
            var data: JSONValue?
            if let intervention = after.intervention {
                message += " at '\(intervention.step)': \(intervention.reason)"
                if !intervention.recoveredBy.isEmpty {
                    message += "; Gold did: \(intervention.recoveredBy.joined(separator: ", "))"
                }
                data = .object(["evidence": .array(intervention.evidence.map(JSONValue.string))])
            }
            events.append(
                NewEvent(
                    actor: actor, kind: "workflow.\(after.status.rawValue)", machine: after.machine, message: message,
                    data: data))
        }
        return events
    }

    // MARK: - Service

    /// Recovers, then passes every tick with an executor running the commands; on shutdown the executor stops, its
    /// running commands are cancelled and awaited: nothing this runner started outlives it.
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await self.executeCommands() }
            defer {
                stopExecuting()
                group.cancelAll()
            }
            try await recover()
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                await pass()
                await rolloutPass()
                try? await Task.sleep(for: tickInterval)
            }
        }
    }

    /// After a restart: commands never started run now; a non-agent command that was running has an unknown outcome
    /// and never runs again for the same decision.
    func recover() async throws {
        for record in try await store.openCommands() {
            switch (record.state, record.command.action) {
            case (.issued, _):
                launch(record.command)
            case (.started, .agent), (.started, .wait):
                continue
            case (.started, _):
                try await store.finishCommand(id: record.command.id, outcome: .unknown)
                try await transition(
                    record.command.workflow, .completed(commandID: record.command.id, outcome: .unknown),
                    actor: "director restart")
            case (.done, _):
                continue
            }
        }
    }

    /// One pass: observations from new events, then deadlines.
    func pass() async {
        do {
            let active = try await store.listWorkflows(machine: nil, activeOnly: true, limit: 100_000).filter {
                $0.status == .running
            }
            if eventCursor == nil {
                let earliest = active.compactMap { $0.current?.startedAt }.min() ?? clock()
                eventCursor = max(try await store.firstEventID(since: earliest) - 1, 0)
            }
            var byMachine: [String: Workflow] = [:]
            for workflow in active { byMachine[workflow.machine] = workflow }
            // A busy pass reads events for a long time: a workflow started since the listing is looked up when an
            // observation for its machine comes, or that observation would be passed over for good.
            var lookedUp: Set<String> = []
            while let cursor = eventCursor {
                let events = try await store.events(after: cursor, machine: nil, limit: 1000)
                var observed: [String: [(Observation, Date)]] = [:]
                for event in events {
                    guard let machine = event.machine, let observation = Self.observation(event) else { continue }
                    if byMachine[machine] == nil, lookedUp.insert(machine).inserted,
                        let started = try await store.listWorkflows(machine: machine, activeOnly: true, limit: 1).first,
                        started.status == .running
                    {
                        byMachine[machine] = started
                    }
                    // Whether it counts is decided on the stored state, under the workflow's lock: the listing may be older
                    // than the step (or even than the workflow's start, when its step has no start time yet).
                    guard byMachine[machine] != nil else { continue }
                    observed[machine, default: []].append((observation, event.at))
                }
                eventCursor = events.last?.id ?? cursor
                for (machine, updated) in try await observe(observed.map { (byMachine[$0.key]!.id, $0.key, $0.value) })
                {
                    byMachine[machine] = updated
                }
                if events.count < 1000 { break }
            }
            // Only a passed deadline makes a tick do anything: the others are not read again (1,000 workflows in
            // flight made 1,000 reads a second, each in turn for the transition lock).
            let now = clock()
            for workflow in byMachine.values {
                guard workflow.status == .running, let deadline = workflow.current?.deadline, now >= deadline else {
                    continue
                }
                try await transition(workflow.id, .tick, actor: "director")
            }
        } catch {
            logger.error("workflow pass failed", metadata: ["error": "\(error)"])
        }
    }

    /// Each workflow's observations in the order they happened; different workflows' side by side, so one pass with
    /// many observations does not make the last wait for every transition before it.
    func observe(_ work: [(workflow: String, machine: String, observations: [(Observation, Date)])]) async throws -> [(
        String, Workflow
    )] {
        try await withThrowingTaskGroup(of: (String, Workflow?).self) { group in
            var results: [(String, Workflow)] = []
            var running = 0
            for next in work {
                if running == 64, let (machine, updated) = try await group.next() {
                    running -= 1
                    if let updated { results.append((machine, updated)) }
                }
                running += 1
                group.addTask {
                    var last: Workflow?
                    for (observation, at) in next.observations {
                        // The step ends, and the next begins, when the machine did it, not when this pass read it: a
                        // check-in that came while a slow pass was still on the boot fetches counts for the next step.
                        last =
                            try await self.transition(
                                next.workflow, .observed(observation), actor: "director", observedAt: at) ?? last
                    }
                    return (next.machine, last)
                }
            }
            for try await (machine, updated) in group {
                if let updated { results.append((machine, updated)) }
            }
            return results
        }
    }

    static func observation(_ event: Event) -> Observation? {
        switch event.kind {
        case "boot.fetch": return .bootFetch(file: event.message)
        case "machine.netboot.checkin": return .netbootCheckIn
        case "machine.boot.success":
            if case .object(let data) = event.data, case .string(let kernel) = data["kernel"] {
                return .bootSuccess(kernel: kernel)
            }
            return .bootSuccess(kernel: "")
        default: return nil
        }
    }
}
