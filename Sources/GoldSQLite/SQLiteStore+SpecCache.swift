import GRDB
import GoldCore
import Synchronization

/// Decoded machine specs and inventories, each kept with the stored JSON it was decoded from. Listing the fleet decodes
/// only the rows whose JSON changed since the last listing: with 10,000 machines, decoding every spec took about 0.7 s
/// of CPU per `GET /v1/machines`, and the agents' inventories as much again once machines had checked in
/// (docs/benchmarks.md, the director at fleet scale).
final class SpecCache: Sendable {
    struct Entry {
        var specJSON: String
        var spec: MachineSpec
        var inventoryJSON: String?
        var inventory: JSONValue?
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// The machines of `rows` (full `machine` rows), reusing what is unchanged. The cache then holds exactly these
    /// machines, so a removed machine leaves it at the next listing.
    func machines(_ rows: [Row]) throws -> [MachineRecord] {
        let known = entries.withLock { $0 }
        var fresh: [String: Entry] = [:]
        fresh.reserveCapacity(rows.count)
        let records = try rows.map { row -> MachineRecord in
            let name: String = row["name"]
            let specJSON: String = row["spec"]
            let inventoryJSON: String? = row["inventory"]
            let old = known[name]
            let spec =
                try old.flatMap { $0.specJSON == specJSON ? $0.spec : nil }
                ?? SQLiteStore.decode(MachineSpec.self, specJSON)
            let inventory: JSONValue?
            if let old, old.inventoryJSON == inventoryJSON {
                inventory = old.inventory
            } else {
                inventory = try inventoryJSON.map { try SQLiteStore.decode(JSONValue.self, $0) }
            }
            fresh[name] = Entry(specJSON: specJSON, spec: spec, inventoryJSON: inventoryJSON, inventory: inventory)
            return try SQLiteStore.machine(row, spec: spec, inventory: inventory)
        }
        entries.withLock { $0 = fresh }
        return records
    }
}
