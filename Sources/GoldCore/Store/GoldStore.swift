import Foundation

/// The director's durable state. Every implementation passes the same test suite (`StoreConformance`).
///
/// The protocol speaks only Gold's types, so SQLite, PostgreSQL and in-memory stores can stand behind it.
public protocol GoldStore: Sendable {
    func listMachines() async throws -> [MachineRecord]
    func machine(named name: String) async throws -> MachineRecord?
    func machine(mac: MACAddress) async throws -> MachineRecord?
    func listProfiles() async throws -> [ProfileSpec]

    /// Works out what applying `fleet` changes and, unless `dryRun`, applies it in one transaction with an event
    /// per change. Machines absent from the file are removed only with `prune`.
    func applyFleet(_ fleet: Fleet, prune: Bool, dryRun: Bool, actor: String) async throws -> FleetPlan

    /// Records what the agent reported about the machine's hardware.
    func setInventory(machine: String, inventory: JSONValue, actor: String) async throws

    /// Sets what the machine boots into next from the network.
    func setNextBoot(machine: String, _ next: NextBoot, actor: String) async throws

    /// A netboot check-in: stores the inventory, turns a one-shot netboot back into `.disk`, bumps the enrolment
    /// generation, and returns the record as it now stands. Throws when `generation` is not the machine's current one.
    func netbootCheckIn(machine: String, generation: Int64, inventory: JSONValue, actor: String) async throws
        -> MachineRecord

    /// Moves the machine to `state` (workflows do this), with an event.
    func setState(machine: String, _ state: MachineState, actor: String) async throws

    /// The id of the first event at or after `date` (0 when there is none): where a reader resumes.
    func firstEventID(since date: Date) async throws -> Int64

    /// The director's signing key (for enrolment tokens), created on first use and shared by every director.
    func directorKey() async throws -> [UInt8]

    @discardableResult
    func appendEvent(_ event: NewEvent) async throws -> Event
    /// Events with an id above `after`, oldest first; for one machine when `machine` is given.
    func events(after: Int64, machine: String?, limit: Int) async throws -> [Event]
    /// Deletes events whose kind starts with `kindPrefix` recorded before `before`; returns how many went.
    @discardableResult
    func pruneEvents(kindPrefix: String, before: Date) async throws -> Int
    /// The newest `limit` events, oldest first (`gold events` without `--after`, like `journalctl -n`).
    func newestEvents(machine: String?, limit: Int) async throws -> [Event]

    func insertToken(_ token: TokenRecord, actor: String) async throws
    func token(hash: String) async throws -> TokenRecord?
    func listTokens() async throws -> [TokenRecord]
    /// Revokes the token; false when no live token has that id.
    func revokeToken(id: String, actor: String) async throws -> Bool
}
