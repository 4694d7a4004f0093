import Foundation
import GoldDHCP

/// DHCP leases in a JSON file beside the deploy server, rewritten atomically (temp file, fsync, rename) on every
/// change: a restart or a crash keeps every bound lease.
public actor FileLeaseStore: LeaseStore {
    let path: String
    private var leases: [GoldDHCP.MACAddress: Lease]?

    public init(path: String) { self.path = path }

    public func loadLeases() throws -> [Lease] {
        try loaded().values.sorted { $0.mac < $1.mac }
    }

    public func apply(_ changes: [LeaseChange]) throws {
        var current = try loaded()
        for change in changes {
            switch change {
            case .save(let lease): current[lease.mac] = lease
            case .remove(let mac): current[mac] = nil
            }
        }
        leases = current
        let data = try JSONEncoder().encode(current.values.sorted { $0.mac < $1.mac })
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: temporary))
        try handle.synchronize()
        try handle.close()
        guard rename(temporary, path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    private func loaded() throws -> [GoldDHCP.MACAddress: Lease] {
        if let leases { return leases }
        var result: [GoldDHCP.MACAddress: Lease] = [:]
        if let data = FileManager.default.contents(atPath: path) {
            for lease in try JSONDecoder().decode([Lease].self, from: data) { result[lease.mac] = lease }
        }
        leases = result
        return result
    }
}
