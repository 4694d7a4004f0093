import Foundation
import GoldWorkflow
import Synchronization

/// Times step transitions: when an outcome or an observation is handed to the director, and when the transition it
/// causes is saved. Deliveries are keyed by command id (outcomes) or by machine and what a step awaits (observations).
public final class TransitionRecorder: Sendable {
    struct Delivery {
        var instant: ContinuousClock.Instant
        var date: Date
    }

    struct State {
        var pending: [String: Delivery] = [:]
        /// Samples are kept per phase of the run (setting phases apart: one list client, several, the drain).
        var phase = 0
        var outcomeToSaved: [Int: [Double]] = [:]
        var observationToSaved: [Int: [Double]] = [:]
        var commits: [Int: [Double]] = [:]
        var saves = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Later samples belong to this phase.
    func setPhase(_ phase: Int) { state.withLock { $0.phase = phase } }

    /// A command's outcome is about to reach the director (the agent's report, or an action the director ran).
    public func outcomeDelivered(command id: String) {
        let now = Delivery(instant: .now, date: Date())
        state.withLock { $0.pending["c " + id] = now }
    }

    /// An observation is about to reach the director (boot fetches, a netboot check-in, boot success).
    public func observationDelivered(machine: String, _ awaited: Awaited) {
        let now = Delivery(instant: .now, date: Date())
        state.withLock { $0.pending[Self.key(machine, awaited)] = now }
    }

    static func key(_ machine: String, _ awaited: Awaited) -> String {
        switch awaited {
        case .bootFetch: "o \(machine) fetch"
        case .netbootCheckIn: "o \(machine) checkin"
        case .bootSuccess: "o \(machine) boot"
        }
    }

    /// A transition was saved: `commit` is the store's write, `savedAt` when it returned. Deliveries whose step moved
    /// in this transition are matched and timed.
    func saved(_ workflow: Workflow, commit: Duration, savedAt: ContinuousClock.Instant) {
        state.withLock { state in
            state.saves += 1
            state.commits[state.phase, default: []].append(commit.milliseconds)
            guard !state.pending.isEmpty else { return }
            for run in workflow.allRuns {
                if let id = run.commandID, run.state != .running || run.actionDone,
                    let delivery = state.pending.removeValue(forKey: "c " + id)
                {
                    state.outcomeToSaved[state.phase, default: []].append((savedAt - delivery.instant).milliseconds)
                }
                if run.state == .succeeded, let awaited = run.definition.awaits, let finished = run.finishedAt {
                    let key = Self.key(workflow.machine, awaited)
                    // The step must have finished after the delivery, or an earlier step awaiting the same thing matches.
                    if let delivery = state.pending[key], finished >= delivery.date.addingTimeInterval(-0.001) {
                        state.pending[key] = nil
                        state.observationToSaved[state.phase, default: []].append(
                            (savedAt - delivery.instant).milliseconds)
                    }
                }
            }
        }
    }

    public struct Snapshot: Sendable {
        public var saves: Int
        public var outcomeToSaved: [Int: [Double]]
        public var observationToSaved: [Int: [Double]]
        public var commits: [Int: [Double]]
        /// Deliveries no saved transition matched (an outcome for a step an observation had already finished).
        public var unmatched: Int
    }

    public func snapshot() -> Snapshot {
        state.withLock {
            Snapshot(
                saves: $0.saves, outcomeToSaved: $0.outcomeToSaved, observationToSaved: $0.observationToSaved,
                commits: $0.commits,
                unmatched: $0.pending.count)
        }
    }
}

extension [Int: [Double]] {
    /// Every phase's samples, or those of the given phases.
    func samples(_ phases: [Int]? = nil) -> [Double] {
        (phases ?? Array(keys)).flatMap { self[$0] ?? [] }
    }
}
