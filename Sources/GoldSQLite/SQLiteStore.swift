import Foundation
import GRDB
import GoldCore

/// The embedded store: one SQLite file in WAL mode with foreign keys on and every commit synced.
public final class SQLiteStore: GoldStore {
    let writer: any DatabaseWriter
    let specs = SpecCache()

    /// Opens (creating if needed) the database at `path` and migrates it.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // A commit survives a crash of the process and of the host.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            writer = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw GoldError(.io, "cannot open the store: \(error)", at: path)
        }
        try Self.migrator.migrate(writer)
    }

    /// A private in-memory database, for tests.
    public init() throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        writer = try DatabaseQueue(configuration: configuration)
        try Self.migrator.migrate(writer)
    }

    public func listMachines() async throws -> [MachineRecord] {
        try await writer.read { db in
            try self.specs.machines(Row.fetchAll(db, sql: "SELECT * FROM machine ORDER BY name"))
        }
    }

    public func machine(named name: String) async throws -> MachineRecord? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM machine WHERE name = ?", arguments: [name]).map(Self.machine)
        }
    }

    public func machine(mac: MACAddress) async throws -> MachineRecord? {
        try await writer.read { db in
            try Row.fetchOne(
                db, sql: "SELECT machine.* FROM machine JOIN nic ON nic.machine = machine.name WHERE nic.mac = ?",
                arguments: [mac.description]
            ).map(Self.machine)
        }
    }

    public func listProfiles() async throws -> [ProfileSpec] {
        try await writer.read { db in try Self.profiles(db) }
    }

    public func applyFleet(_ fleet: Fleet, prune: Bool, dryRun: Bool, actor: String) async throws -> FleetPlan {
        try await writer.write { db in
            let current = try self.specs.machines(Row.fetchAll(db, sql: "SELECT * FROM machine ORDER BY name"))
            let plan = try FleetPlan.make(
                current: current.map(\.spec), currentProfiles: try Self.profiles(db), desired: fleet, prune: prune)
            if dryRun { return plan }
            let now = Self.millis(Date())
            for name in plan.removed {
                try db.execute(sql: "DELETE FROM machine WHERE name = ?", arguments: [name])
                try Self.insertEvent(
                    db,
                    NewEvent(
                        actor: actor, kind: "fleet.machine.removed", machine: name,
                        message: "machine \(name) removed from the fleet"))
            }
            for name in plan.profilesRemoved {
                try db.execute(sql: "DELETE FROM profile WHERE name = ?", arguments: [name])
                try Self.insertEvent(
                    db, NewEvent(actor: actor, kind: "fleet.profile.removed", message: "profile \(name) removed"))
            }
            for profile in fleet.profiles
            where plan.profilesAdded.contains(profile.name) || plan.profilesChanged.contains(profile.name) {
                try db.execute(
                    sql:
                        "INSERT INTO profile (name, settings) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET settings = excluded.settings",
                    arguments: [profile.name, try Self.json(profile.settings)])
                let verb = plan.profilesAdded.contains(profile.name) ? "added" : "changed"
                try Self.insertEvent(
                    db,
                    NewEvent(actor: actor, kind: "fleet.profile.\(verb)", message: "profile \(profile.name) \(verb)"))
            }
            let changed = Dictionary(plan.changed.map { ($0.machine, $0.fields) }, uniquingKeysWith: { a, _ in a })
            // Free every MAC that moves before any machine takes it.
            for machine in fleet.machines where changed[machine.name] != nil {
                try db.execute(sql: "DELETE FROM nic WHERE machine = ?", arguments: [machine.name])
            }
            for machine in fleet.machines {
                if plan.added.contains(machine.name) {
                    try db.execute(
                        sql: """
                            INSERT INTO machine (name, profile, role, state, spec, created_at, updated_at)
                            VALUES (?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            machine.name, machine.profile, machine.role, MachineState.new.rawValue,
                            try Self.json(machine), now, now,
                        ])
                    try Self.insertEvent(
                        db,
                        NewEvent(
                            actor: actor, kind: "fleet.machine.added", machine: machine.name,
                            message:
                                "machine \(machine.name) added (\(machine.macs.map(\.description).joined(separator: ", ")))"
                        ))
                } else if let fields = changed[machine.name] {
                    try db.execute(
                        sql: "UPDATE machine SET profile = ?, role = ?, spec = ?, updated_at = ? WHERE name = ?",
                        arguments: [machine.profile, machine.role, try Self.json(machine), now, machine.name])
                    try Self.insertEvent(
                        db,
                        NewEvent(
                            actor: actor, kind: "fleet.machine.changed", machine: machine.name,
                            message: "machine \(machine.name) changed: \(fields.joined(separator: ", "))",
                            data: .array(fields.map(JSONValue.string))))
                } else {
                    continue
                }
                for mac in machine.macs {
                    try db.execute(
                        sql: "INSERT INTO nic (mac, machine) VALUES (?, ?)", arguments: [mac.description, machine.name])
                }
            }
            return plan
        }
    }

    public func setInventory(machine: String, inventory: JSONValue, actor: String) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE machine SET inventory = ?, updated_at = ? WHERE name = ?",
                arguments: [try Self.json(inventory), Self.millis(Date()), machine])
            guard db.changesCount == 1 else { throw GoldError(.notFound, "no machine named '\(machine)'") }
            try Self.insertEvent(
                db, NewEvent(actor: actor, kind: "machine.inventory", machine: machine, message: "inventory reported"))
        }
    }

    public func setNextBoot(machine: String, _ next: NextBoot, actor: String) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE machine SET next_boot = ?, updated_at = ? WHERE name = ?",
                arguments: [next.description, Self.millis(Date()), machine])
            guard db.changesCount == 1 else { throw GoldError(.notFound, "no machine named '\(machine)'") }
            try Self.insertEvent(
                db, NewEvent(actor: actor, kind: "machine.next_boot", machine: machine, message: "next boot: \(next)"))
        }
    }

    public func netbootCheckIn(machine: String, generation: Int64, inventory: JSONValue, actor: String) async throws
        -> MachineRecord
    {
        try await writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM machine WHERE name = ?", arguments: [machine])
            else {
                throw GoldError(.notFound, "no machine named '\(machine)'")
            }
            var record = try Self.machine(row)
            guard record.enrolGeneration == generation else {
                throw GoldError(
                    .unauthorized,
                    "the enrolment token of \(machine) was already used (generation \(generation), now \(record.enrolGeneration))"
                )
            }
            if case .netbootOnce = record.nextBoot { record.nextBoot = .disk }
            record.enrolGeneration += 1
            record.inventory = inventory
            try db.execute(
                sql:
                    "UPDATE machine SET next_boot = ?, enrol_generation = ?, inventory = ?, updated_at = ? WHERE name = ?",
                arguments: [
                    record.nextBoot.description, record.enrolGeneration, try Self.json(inventory), Self.millis(Date()),
                    machine,
                ])
            try Self.insertEvent(
                db,
                NewEvent(
                    actor: actor, kind: "machine.netboot.checkin", machine: machine,
                    message: "checked in from the netboot environment; next boot: \(record.nextBoot)", data: inventory))
            return record
        }
    }

    public func setState(machine: String, _ state: MachineState, actor: String) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE machine SET state = ?, updated_at = ? WHERE name = ?",
                arguments: [state.rawValue, Self.millis(Date()), machine])
            guard db.changesCount == 1 else { throw GoldError(.notFound, "no machine named '\(machine)'") }
            try Self.insertEvent(
                db, NewEvent(actor: actor, kind: "machine.state", machine: machine, message: "state: \(state.rawValue)")
            )
        }
    }

    public func firstEventID(since date: Date) async throws -> Int64 {
        try await writer.read { db in
            try Int64.fetchOne(db, sql: "SELECT MIN(id) FROM event WHERE at >= ?", arguments: [Self.millis(date)]) ?? 0
        }
    }

    public func directorKey() async throws -> [UInt8] {
        // Every enrolment token checks against it: a read, not a turn on the single writer, once the key exists.
        if let hex = try await writer.read({ db in
            try String.fetchOne(db, sql: "SELECT value FROM secret WHERE name = 'director_key'")
        }) {
            return Self.bytes(hex: hex)
        }
        return try await writer.write { db in
            if let hex = try String.fetchOne(db, sql: "SELECT value FROM secret WHERE name = 'director_key'") {
                return Self.bytes(hex: hex)
            }
            var generator = SystemRandomNumberGenerator()
            let key = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            try db.execute(
                sql: "INSERT INTO secret (name, value) VALUES ('director_key', ?)",
                arguments: [key.map { String($0, radix: 16).leftPadded(2) }.joined()])
            return key
        }
    }

    public func appendEvent(_ event: NewEvent) async throws -> Event {
        try await writer.write { db in try Self.insertEvent(db, event) }
    }

    public func events(after: Int64, machine: String?, limit: Int) async throws -> [Event] {
        try await writer.read { db in
            let rows: [Row]
            if let machine {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM event WHERE id > ? AND machine = ? ORDER BY id LIMIT ?",
                    arguments: [after, machine, limit])
            } else {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM event WHERE id > ? ORDER BY id LIMIT ?", arguments: [after, limit])
            }
            return try rows.map(Self.event)
        }
    }

    public func pruneEvents(kindPrefix: String, before: Date) async throws -> Int {
        try await writer.write { db in
            // `kind >= prefix AND kind < prefix + U+FFFF` uses the column's ordering; LIKE would treat _ and % in it.
            try db.execute(
                sql: "DELETE FROM event WHERE kind >= ? AND kind < ? AND at < ?",
                arguments: [kindPrefix, kindPrefix + "\u{FFFF}", Self.millis(before)])
            return db.changesCount
        }
    }

    public func newestEvents(machine: String?, limit: Int) async throws -> [Event] {
        try await writer.read { db in
            let rows: [Row]
            if let machine {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM event WHERE machine = ? ORDER BY id DESC LIMIT ?",
                    arguments: [machine, limit])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM event ORDER BY id DESC LIMIT ?", arguments: [limit])
            }
            return try rows.reversed().map(Self.event)
        }
    }

    public func insertToken(_ token: TokenRecord, actor: String) async throws {
        try await writer.write { db in
            if token.role == .agent {
                guard let machine = token.machine,
                    try Row.fetchOne(db, sql: "SELECT 1 FROM machine WHERE name = ?", arguments: [machine]) != nil
                else {
                    throw GoldError(
                        .notFound,
                        "an agent token needs a machine in the fleet; no machine named '\(token.machine ?? "")'")
                }
            }
            try db.execute(
                sql: "INSERT INTO token (id, hash, role, machine, label, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    token.id, token.hash, token.role.rawValue, token.machine, token.label, Self.millis(token.createdAt),
                ])
            try Self.insertEvent(
                db,
                NewEvent(
                    actor: actor, kind: "token.created", machine: token.machine,
                    message: "token \(token.id) created for role \(token.role.rawValue) (\(token.label))"))
        }
    }

    public func token(hash: String) async throws -> TokenRecord? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM token WHERE hash = ?", arguments: [hash]).map(Self.token)
        }
    }

    public func listTokens() async throws -> [TokenRecord] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM token ORDER BY created_at, id").map(Self.token)
        }
    }

    public func revokeToken(id: String, actor: String) async throws -> Bool {
        try await writer.write { db in
            // The last live admin token stays: without one nobody could create tokens again over the API. Checked in the
            // same transaction as the revocation, so two revocations at once cannot both pass.
            let role = try String.fetchOne(
                db, sql: "SELECT role FROM token WHERE id = ? AND revoked_at IS NULL", arguments: [id])
            if role == Role.admin.rawValue,
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM token WHERE role = ? AND revoked_at IS NULL",
                    arguments: [Role.admin.rawValue]) ?? 0 <= 1
            {
                throw GoldError(
                    .conflict,
                    "token \(id) is the last live admin token; create another admin token first (on the director's host, as root: gold token create --local --role admin)"
                )
            }
            try db.execute(
                sql: "UPDATE token SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                arguments: [Self.millis(Date()), id])
            guard db.changesCount == 1 else { return false }
            try Self.insertEvent(db, NewEvent(actor: actor, kind: "token.revoked", message: "token \(id) revoked"))
            return true
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

extension SQLiteStore {
    static func bytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }
}
