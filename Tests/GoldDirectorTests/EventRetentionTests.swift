import Foundation
import GoldCore
import GoldSQLite
import Logging
import Testing

@testable import GoldServer

@Suite struct EventRetentionTests {
    @Test func prunesOnlyOldBootObservations() async throws {
        let store = try SQLiteStore()
        _ = try await store.appendEvent(NewEvent(actor: "deploy", kind: "boot.fetch", message: "tftp undionly.kpxe"))
        _ = try await store.appendEvent(NewEvent(actor: "admin", kind: "fleet.machine.added", message: "m1 added"))
        let retention = EventRetention(store: store, days: 30, logger: Logger(label: "t"))
        // Thirty days later nothing is old enough; thirty-one days later the fetch goes and the person's change stays.
        #expect(await retention.pruneOnce(now: Date().addingTimeInterval(29 * 86400)) == 0)
        #expect(await retention.pruneOnce(now: Date().addingTimeInterval(31 * 86400)) == 1)
        #expect(try await store.events(after: 0, machine: nil, limit: 10).map(\.kind) == ["fleet.machine.added"])
    }
}
