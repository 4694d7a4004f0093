import Foundation
import GRDB
import GoldCore

extension SQLiteStore {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }

    static func machine(_ row: Row) throws -> MachineRecord {
        let inventory: String? = row["inventory"]
        return try machine(
            row, spec: try decode(MachineSpec.self, row["spec"]),
            inventory: try inventory.map { try decode(JSONValue.self, $0) })
    }

    /// The record of a `machine` row whose spec and inventory are already decoded.
    static func machine(_ row: Row, spec: MachineSpec, inventory: JSONValue?) throws -> MachineRecord {
        let stateText: String = row["state"]
        guard let state = MachineState(rawValue: stateText) else {
            throw GoldError(
                .internalError, "machine \(row["name"] as String) has an unknown state '\(stateText)' in the store")
        }
        let nextText: String = row["next_boot"]
        guard let next = NextBoot(nextText) else {
            throw GoldError(
                .internalError, "machine \(row["name"] as String) has an unknown next boot '\(nextText)' in the store")
        }
        return MachineRecord(
            spec: spec, state: state,
            inventory: inventory, nextBoot: next,
            enrolGeneration: row["enrol_generation"],
            createdAt: date(row["created_at"]), updatedAt: date(row["updated_at"]))
    }

    static func profiles(_ db: Database) throws -> [ProfileSpec] {
        try Row.fetchAll(db, sql: "SELECT * FROM profile ORDER BY name").map {
            ProfileSpec(name: $0["name"], settings: try decode(JSONValue.self, $0["settings"]))
        }
    }

    static func event(_ row: Row) throws -> Event {
        let data: String? = row["data"]
        return Event(
            id: row["id"], at: date(row["at"]), actor: row["actor"], kind: row["kind"], machine: row["machine"],
            message: row["message"], data: try data.map { try decode(JSONValue.self, $0) })
    }

    static func token(_ row: Row) throws -> TokenRecord {
        let roleText: String = row["role"]
        guard let role = Role(rawValue: roleText) else {
            throw GoldError(
                .internalError, "token \(row["id"] as String) has an unknown role '\(roleText)' in the store")
        }
        let revoked: Int64? = row["revoked_at"]
        return TokenRecord(
            id: row["id"], hash: row["hash"], role: role, machine: row["machine"], label: row["label"],
            createdAt: date(row["created_at"]), revokedAt: revoked.map(date))
    }

    /// Longest message and data an event keeps: events are read back a thousand at a time, so none may be large,
    /// whatever a caller put in them.
    static let eventMessageLimit = 4096
    static let eventDataLimit = 64 << 10

    @discardableResult
    static func insertEvent(_ db: Database, _ event: NewEvent) throws -> Event {
        let now = Date()
        var event = event
        if event.message.utf8.count > eventMessageLimit {
            event.message =
                String(decoding: event.message.utf8.prefix(eventMessageLimit), as: UTF8.self)
                + " … (cut at \(eventMessageLimit) bytes)"
        }
        var data = try event.data.map { try json($0) }
        if let text = data, text.utf8.count > eventDataLimit {
            event.data = .object([
                "cut": .string("the event's data was \(text.utf8.count) bytes; at most \(eventDataLimit) are kept")
            ])
            data = try event.data.map { try json($0) }
        }
        try db.execute(
            sql: "INSERT INTO event (at, actor, kind, machine, message, data) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [millis(now), event.actor, event.kind, event.machine, event.message, data])
        return Event(
            id: db.lastInsertedRowID, at: date(millis(now)), actor: event.actor, kind: event.kind,
            machine: event.machine,
            message: event.message, data: event.data)
    }
}
