import GoldCore
import GRDB
import Synchronization

/// Decoded machine specs, each kept with the stored JSON it was decoded from. Listing the fleet decodes only the rows
/// whose JSON changed since the last listing: with 10,000 machines, decoding every spec took about 0.7 s of CPU per
/// `GET /v1/machines` (docs/benchmarks.md, the director at fleet scale).
final class SpecCache: Sendable {
    private let entries = Mutex<[String: (json: String, spec: MachineSpec)]>([:])

    /// The machines of `rows` (full `machine` rows), reusing the specs whose JSON is unchanged. The cache then holds
    /// exactly these machines, so a removed machine leaves it at the next listing.
    func machines(_ rows: [Row]) throws -> [MachineRecord] {
        let known = entries.withLock { $0 }
        var fresh: [String: (json: String, spec: MachineSpec)] = [:]
        fresh.reserveCapacity(rows.count)
        let records = try rows.map { row -> MachineRecord in
            let name: String = row["name"]
            let json: String = row["spec"]
            let spec: MachineSpec
            if let entry = known[name], entry.json == json {
                spec = entry.spec
            } else {
                spec = try SQLiteStore.decode(MachineSpec.self, json)
            }
            fresh[name] = (json, spec)
            return try SQLiteStore.machine(row, spec: spec)
        }
        entries.withLock { $0 = fresh }
        return records
    }
}
