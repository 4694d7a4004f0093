import Foundation
import GoldCore
import Logging
import ServiceLifecycle

/// Drops the boot servers' observations (`boot.*` events: fetches, scripts, summaries) older than the configured days,
/// at start and every hour. Changes made by people and workflows (fleet, tokens, workflow steps, machine state) are
/// other kinds and are never dropped.
struct EventRetention: Service {
    let store: any GoldStore
    let days: Int
    let logger: Logger
    var interval: Duration = .seconds(3600)

    /// The kinds this drops: what the deploy server reports, never what a person or a workflow did.
    static let prunedKindPrefix = "boot."

    func run() async throws {
        guard days > 0 else { return }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await pruneOnce()
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }

    @discardableResult
    func pruneOnce(now: Date = Date()) async -> Int {
        let before = now.addingTimeInterval(-Double(days) * 86400)
        do {
            let dropped = try await store.pruneEvents(kindPrefix: Self.prunedKindPrefix, before: before)
            if dropped > 0 {
                logger.info("event retention", metadata: ["dropped": "\(dropped)", "older_than_days": "\(days)"])
            }
            return dropped
        } catch {
            logger.warning("event retention failed; will try again", metadata: ["error": "\(error)"])
            return 0
        }
    }
}
