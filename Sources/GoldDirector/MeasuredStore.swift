import Foundation
import GoldCore
import Metrics

/// Times every store call into `gold_store_duration_seconds{op=…}`, whatever the store behind it.
struct MeasuredStore: GoldStore {
    let base: any GoldStore

    private func timed<T>(_ op: String, _ body: () async throws -> T) async rethrows -> T {
        let start = ContinuousClock.now
        defer {
            Timer(label: "gold_store_duration_seconds", dimensions: [("op", op)]).record(
                duration: ContinuousClock.now - start)
        }
        return try await body()
    }

    func listMachines() async throws -> [MachineRecord] {
        try await timed("list_machines") { try await base.listMachines() }
    }
    func machine(named name: String) async throws -> MachineRecord? {
        try await timed("machine") { try await base.machine(named: name) }
    }
    func machine(mac: MACAddress) async throws -> MachineRecord? {
        try await timed("machine_by_mac") { try await base.machine(mac: mac) }
    }
    func listProfiles() async throws -> [ProfileSpec] {
        try await timed("list_profiles") { try await base.listProfiles() }
    }
    func applyFleet(_ fleet: Fleet, prune: Bool, dryRun: Bool, actor: String) async throws -> FleetPlan {
        try await timed("apply_fleet") { try await base.applyFleet(fleet, prune: prune, dryRun: dryRun, actor: actor) }
    }
    func setInventory(machine: String, inventory: JSONValue, actor: String) async throws {
        try await timed("set_inventory") {
            try await base.setInventory(machine: machine, inventory: inventory, actor: actor)
        }
    }
    func setNextBoot(machine: String, _ next: NextBoot, actor: String) async throws {
        try await timed("set_next_boot") { try await base.setNextBoot(machine: machine, next, actor: actor) }
    }
    func netbootCheckIn(machine: String, generation: Int64, inventory: JSONValue, actor: String) async throws
        -> MachineRecord
    {
        try await timed("netboot_checkin") {
            try await base.netbootCheckIn(machine: machine, generation: generation, inventory: inventory, actor: actor)
        }
    }
    func setState(machine: String, _ state: MachineState, actor: String) async throws {
        try await timed("set_state") { try await base.setState(machine: machine, state, actor: actor) }
    }
    func firstEventID(since date: Date) async throws -> Int64 {
        try await timed("first_event") { try await base.firstEventID(since: date) }
    }
    func directorKey() async throws -> [UInt8] { try await timed("director_key") { try await base.directorKey() } }
    func appendEvent(_ event: NewEvent) async throws -> Event {
        try await timed("append_event") { try await base.appendEvent(event) }
    }
    func events(after: Int64, machine: String?, limit: Int) async throws -> [Event] {
        try await timed("events") { try await base.events(after: after, machine: machine, limit: limit) }
    }
    func pruneEvents(kindPrefix: String, before: Date) async throws -> Int {
        try await timed("prune_events") { try await base.pruneEvents(kindPrefix: kindPrefix, before: before) }
    }
    func newestEvents(machine: String?, limit: Int) async throws -> [Event] {
        try await timed("newest_events") { try await base.newestEvents(machine: machine, limit: limit) }
    }
    func insertToken(_ token: TokenRecord, actor: String) async throws {
        try await timed("insert_token") { try await base.insertToken(token, actor: actor) }
    }
    func token(hash: String) async throws -> TokenRecord? {
        try await timed("token") { try await base.token(hash: hash) }
    }
    func listTokens() async throws -> [TokenRecord] { try await timed("list_tokens") { try await base.listTokens() } }
    func revokeToken(id: String, actor: String) async throws -> Bool {
        try await timed("revoke_token") { try await base.revokeToken(id: id, actor: actor) }
    }
}
