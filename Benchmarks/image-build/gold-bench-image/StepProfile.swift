import Foundation
import GoldImage
import GoldSpawn

/// What one build spent, step by step: the builder's progress steps and every external tool it ran.
final class StepProfile: @unchecked Sendable {
    struct ToolCall: Sendable {
        var step: String
        var program: String
        var seconds: Double
    }

    private let lock = NSLock()
    private let started = ContinuousClock.now
    private var marks: [(step: String, at: ContinuousClock.Instant)] = []
    private var calls: [ToolCall] = []

    /// The builder's progress callback: a new step starts.
    func mark(_ step: String) {
        lock.withLock { marks.append((step, ContinuousClock.now)) }
    }

    var currentStep: String { lock.withLock { marks.last?.step ?? "start" } }

    func record(_ program: String, seconds: Double, step: String) {
        lock.withLock { calls.append(ToolCall(step: step, program: program, seconds: seconds)) }
    }

    /// Seconds per step, in order (a step that repeats is summed), up to `end`.
    func steps(until end: ContinuousClock.Instant) -> [(String, Double)] {
        lock.withLock {
            var out: [(String, Double)] = []
            for (i, mark) in marks.enumerated() {
                let next = i + 1 < marks.count ? marks[i + 1].at : end
                let seconds = (next - mark.at).seconds
                if let j = out.firstIndex(where: { $0.0 == mark.step }) {
                    out[j].1 += seconds
                } else {
                    out.append((mark.step, seconds))
                }
            }
            return out
        }
    }

    /// Seconds per program, summed, with the number of calls, in order of first use.
    var tools: [(program: String, calls: Int, seconds: Double)] {
        lock.withLock {
            var out: [(String, Int, Double)] = []
            for call in calls {
                if let j = out.firstIndex(where: { $0.0 == call.program }) {
                    out[j].1 += 1
                    out[j].2 += call.seconds
                } else {
                    out.append((call.program, 1, call.seconds))
                }
            }
            return out
        }
    }
}

/// Runs the builder's tools through the real runner and times each call into a ``StepProfile``.
struct TimingRunner: ProgramRunner {
    let inner: any ProgramRunner
    let profile: StepProfile

    func locate(_ program: String) -> String? { inner.locate(program) }

    func run(_ invocation: Invocation) async throws -> InvocationResult {
        let step = profile.currentStep
        let start = ContinuousClock.now
        defer { profile.record(invocation.program, seconds: (ContinuousClock.now - start).seconds, step: step) }
        return try await inner.run(invocation)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
