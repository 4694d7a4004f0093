import Foundation
import GoldCore
import GoldSQLite
import Testing

/// The suite every `GoldStore` must pass. Add an implementation to `StoreKind` and it runs every test.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case sqliteMemory
    case sqliteFile

    var testDescription: String { rawValue }

    func make() throws -> any GoldStore {
        switch self {
        case .sqliteMemory:
            return try SQLiteStore()
        case .sqliteFile:
            let dir = Self.parent + "/" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            return try SQLiteStore(path: dir + "/gold.db")
        }
    }

    /// One directory per test process for every file store, removed when the process exits (the stores stay open
    /// until then, so no single test can remove its own).
    static let parent: String = {
        atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "gold-store-tests-\(getpid())") }
        return NSTemporaryDirectory() + "gold-store-tests-\(getpid())"
    }()
}

func machine(_ name: String, mac: String, role: String? = "web") -> MachineSpec {
    MachineSpec(name: name, role: role, macs: [MACAddress(mac)!], boot: .bios)
}

@Suite struct StoreConformanceTests {
    @Test(arguments: StoreKind.allCases)
    func applyAddsMachinesAndRecordsEvents(kind: StoreKind) async throws {
        let store = try kind.make()
        let fleet = Fleet(machines: [machine("a", mac: "52:54:00:00:00:01"), machine("b", mac: "52:54:00:00:00:02")])
        let plan = try await store.applyFleet(fleet, prune: false, dryRun: false, actor: "test")
        #expect(plan.added == ["a", "b"])
        #expect(try await store.listMachines().map(\.name) == ["a", "b"])
        #expect(try await store.machine(named: "a")?.spec == fleet.machines[0])
        #expect(try await store.machine(mac: MACAddress("52:54:00:00:00:02")!)?.name == "b")
        #expect(try await store.machine(mac: MACAddress("52:54:00:00:00:09")!) == nil)
        let events = try await store.events(after: 0, machine: nil, limit: 10)
        #expect(events.map(\.kind) == ["fleet.machine.added", "fleet.machine.added"])
        #expect(events.allSatisfy { $0.actor == "test" })
        #expect(try await store.events(after: events[0].id, machine: nil, limit: 10).count == 1)
        #expect(try await store.events(after: 0, machine: "b", limit: 10).map(\.machine) == ["b"])
        // The newest first picked, then printed oldest first (`gold events` without --after).
        #expect(try await store.newestEvents(machine: nil, limit: 1).map(\.id) == [events[1].id])
        #expect(try await store.newestEvents(machine: nil, limit: 10).map(\.id) == events.map(\.id))
        #expect(try await store.newestEvents(machine: "a", limit: 10).map(\.machine) == ["a"])
    }

    @Test(arguments: StoreKind.allCases)
    func dryRunChangesNothing(kind: StoreKind) async throws {
        let store = try kind.make()
        let plan = try await store.applyFleet(
            Fleet(machines: [machine("a", mac: "52:54:00:00:00:01")]), prune: false, dryRun: true, actor: "t")
        #expect(plan.added == ["a"])
        #expect(try await store.listMachines().isEmpty)
        #expect(try await store.events(after: 0, machine: nil, limit: 10).isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func changesAndPrune(kind: StoreKind) async throws {
        let store = try kind.make()
        _ = try await store.applyFleet(
            Fleet(machines: [machine("a", mac: "52:54:00:00:00:01"), machine("b", mac: "52:54:00:00:00:02")]),
            prune: false, dryRun: false, actor: "t")
        var changedA = machine("a", mac: "52:54:00:00:00:01", role: "db")
        changedA.boot = .uefi
        let kept = try await store.applyFleet(Fleet(machines: [changedA]), prune: false, dryRun: false, actor: "t")
        #expect(kept.changed == [FleetPlan.Change(machine: "a", fields: ["role", "boot"])])
        #expect(kept.kept == ["b"])
        #expect(try await store.listMachines().count == 2)
        #expect(try await store.machine(named: "a")?.spec.role == "db")
        let pruned = try await store.applyFleet(Fleet(machines: [changedA]), prune: true, dryRun: false, actor: "t")
        #expect(pruned.removed == ["b"])
        #expect(pruned.unchanged == ["a"])
        #expect(try await store.listMachines().map(\.name) == ["a"])
        #expect(try await store.machine(mac: MACAddress("52:54:00:00:00:02")!) == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func macMovingBetweenMachinesInOneApply(kind: StoreKind) async throws {
        let store = try kind.make()
        _ = try await store.applyFleet(
            Fleet(machines: [machine("a", mac: "52:54:00:00:00:01"), machine("b", mac: "52:54:00:00:00:02")]),
            prune: false, dryRun: false, actor: "t")
        // Swap the two MACs: both machines change in one transaction.
        _ = try await store.applyFleet(
            Fleet(machines: [machine("a", mac: "52:54:00:00:00:02"), machine("b", mac: "52:54:00:00:00:01")]),
            prune: false, dryRun: false, actor: "t")
        #expect(try await store.machine(mac: MACAddress("52:54:00:00:00:01")!)?.name == "b")
    }

    @Test(arguments: StoreKind.allCases)
    func macHeldByKeptMachineIsAConflictAndChangesNothing(kind: StoreKind) async throws {
        let store = try kind.make()
        _ = try await store.applyFleet(
            Fleet(machines: [machine("a", mac: "52:54:00:00:00:01")]), prune: false, dryRun: false, actor: "t")
        let before = try await store.events(after: 0, machine: nil, limit: 100).count
        await #expect(throws: GoldError.self) {
            _ = try await store.applyFleet(
                Fleet(machines: [machine("c", mac: "52:54:00:00:00:01")]), prune: false, dryRun: false, actor: "t")
        }
        #expect(try await store.listMachines().map(\.name) == ["a"])
        #expect(try await store.events(after: 0, machine: nil, limit: 100).count == before)
    }

    @Test(arguments: StoreKind.allCases)
    func profilesStoredAndRemoved(kind: StoreKind) async throws {
        let store = try kind.make()
        let profile = ProfileSpec(name: "web", settings: .object(["role": .string("web")]))
        _ = try await store.applyFleet(Fleet(profiles: [profile]), prune: false, dryRun: false, actor: "t")
        #expect(try await store.listProfiles() == [profile])
        let plan = try await store.applyFleet(Fleet(), prune: true, dryRun: false, actor: "t")
        #expect(plan.profilesRemoved == ["web"])
        #expect(try await store.listProfiles().isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func inventory(kind: StoreKind) async throws {
        let store = try kind.make()
        _ = try await store.applyFleet(
            Fleet(machines: [machine("a", mac: "52:54:00:00:00:01")]), prune: false, dryRun: false, actor: "t")
        let facts = JSONValue.object(["memory": .number(2048)])
        try await store.setInventory(machine: "a", inventory: facts, actor: "agent:a")
        #expect(try await store.machine(named: "a")?.inventory == facts)
        await #expect(throws: GoldError.self) {
            try await store.setInventory(machine: "zz", inventory: facts, actor: "t")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func tokens(kind: StoreKind) async throws {
        let store = try kind.make()
        let secret = TokenSecret.generate()
        let record = TokenRecord(
            id: "tok-1", hash: secret.hash, role: .operator, machine: nil, label: "ops",
            createdAt: Date(timeIntervalSince1970: 1_800_000_000))
        try await store.insertToken(record, actor: "t")
        #expect(try await store.token(hash: secret.hash) == record)
        #expect(try await store.token(hash: TokenSecret.generate().hash) == nil)
        #expect(try await store.revokeToken(id: "tok-1", actor: "t"))
        #expect(try await store.revokeToken(id: "tok-1", actor: "t") == false)
        #expect(try await store.token(hash: secret.hash)?.revokedAt != nil)
        // An agent token needs a machine that exists.
        await #expect(throws: GoldError.self) {
            try await store.insertToken(
                TokenRecord(id: "tok-2", hash: "h2", role: .agent, machine: "nope", label: "x", createdAt: Date()),
                actor: "t")
        }
        #expect(try await store.listTokens().map(\.id) == ["tok-1"])
    }

    /// An event keeps at most 4 KiB of message and 64 KiB of data, whatever a caller sent.
    @Test(arguments: StoreKind.allCases)
    func bigEventsAreCut(kind: StoreKind) async throws {
        let store = try kind.make()
        let event = try await store.appendEvent(
            NewEvent(
                actor: "t", kind: "k", message: String(repeating: "m", count: 1 << 20),
                data: .object(["big": .string(String(repeating: "d", count: 1 << 20))])))
        let stored = try #require(try await store.events(after: 0, machine: nil, limit: 10).first)
        #expect(stored.message.utf8.count < 4200 && stored.message.hasSuffix("(cut at 4096 bytes)"))
        #expect(stored == event)
        #expect(stored.data == .object(["cut": .string("the event's data was 1048586 bytes; at most 65536 are kept")]))
    }

    /// Retention drops the boot servers' observations only, and only the old ones.
    @Test(arguments: StoreKind.allCases)
    func retentionDropsOldBootEventsOnly(kind: StoreKind) async throws {
        let store = try kind.make()
        for kind in [
            "boot.fetch", "boot.script", "boot.fetch.unknown", "bootstrap.other", "machine.boot.success",
            "fleet.machine.added", "token.revoked",
        ] {
            try await store.appendEvent(NewEvent(actor: "t", kind: kind, message: kind))
        }
        #expect(try await store.pruneEvents(kindPrefix: "boot.", before: Date(timeIntervalSinceNow: -3600)) == 0)
        #expect(try await store.pruneEvents(kindPrefix: "boot.", before: Date(timeIntervalSinceNow: 3600)) == 3)
        #expect(
            try await store.events(after: 0, machine: nil, limit: 100).map(\.kind)
                == ["bootstrap.other", "machine.boot.success", "fleet.machine.added", "token.revoked"])
    }

    /// Nobody locks themselves out: the last live admin token cannot be revoked; one of two can.
    @Test(arguments: StoreKind.allCases)
    func theLastAdminTokenStays(kind: StoreKind) async throws {
        let store = try kind.make()
        for id in ["adm-1", "adm-2"] {
            try await store.insertToken(
                TokenRecord(id: id, hash: "h-\(id)", role: .admin, machine: nil, label: id, createdAt: Date()),
                actor: "t")
        }
        #expect(try await store.revokeToken(id: "adm-1", actor: "t"))
        await #expect {
            try await store.revokeToken(id: "adm-2", actor: "t")
        } throws: { error in
            (error as? GoldError)?.code == .conflict && "\(error)".contains("gold token create --local --role admin")
        }
        #expect(try await store.listTokens().filter { $0.revokedAt == nil }.map(\.id) == ["adm-2"])
        // Other roles are revoked as before, and an unknown id is still just "no such token".
        try await store.insertToken(
            TokenRecord(id: "view-1", hash: "h-v", role: .viewer, machine: nil, label: "v", createdAt: Date()),
            actor: "t")
        #expect(try await store.revokeToken(id: "view-1", actor: "t"))
        #expect(try await store.revokeToken(id: "nope", actor: "t") == false)
    }

    @Test func fileStoreKeepsEverythingAcrossReopen() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gold-reopen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("gold.db").path
        do {
            let store = try SQLiteStore(path: path)
            _ = try await store.applyFleet(
                Fleet(machines: [machine("a", mac: "52:54:00:00:00:01")]), prune: false, dryRun: false, actor: "t")
        }
        let reopened = try SQLiteStore(path: path)
        #expect(try await reopened.listMachines().map(\.name) == ["a"])
        #expect(try await reopened.events(after: 0, machine: nil, limit: 10).count == 1)
    }
}
