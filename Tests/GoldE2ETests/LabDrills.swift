import Foundation
import GoldSpawn
import Testing

/// What the lab tests do to machines behind Gold's back, and how they read a machine's disk from the host.
enum LabDrills {
    static func disk(_ state: String, _ machine: String) -> String { "\(state)/machines/\(machine)/disk0.raw" }

    /// The byte offset and size of the disk's largest partition (the root file system in the lab's layouts).
    static func rootPartition(_ disk: String) async throws -> (offset: Int, size: Int) {
        let result = try await Spawn.run("/usr/sbin/sfdisk", ["-J", disk], timeout: .seconds(30))
        struct Table: Decodable {
            struct Inner: Decodable {
                struct Partition: Decodable {
                    var start: Int
                    var size: Int
                }
                var partitions: [Partition]
                var sectorsize: Int?
            }
            var partitiontable: Inner
        }
        let table = try JSONDecoder().decode(Table.self, from: Data(result.output.utf8))
        let sector = table.partitiontable.sectorsize ?? 512
        guard let root = table.partitiontable.partitions.max(by: { $0.size < $1.size }) else {
            throw DrillError("no partitions on \(disk): \(result.output)")
        }
        return (root.start * sector, root.size * sector)
    }

    /// Runs `body` with the disk's root file system on a read-only loop device.
    static func withRootLoop<T>(_ disk: String, _ body: (String) async throws -> T) async throws -> T {
        let root = try await rootPartition(disk)
        let attach = try await Spawn.run(
            "/usr/sbin/losetup", ["-f", "--show", "-r", "-o", "\(root.offset)", "--sizelimit", "\(root.size)", disk],
            timeout: .seconds(30))
        let loop = attach.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard attach.exitCode == 0, loop.hasPrefix("/dev/loop") else {
            throw DrillError("losetup failed: \(attach.output)")
        }
        do {
            let value = try await body(loop)
            _ = try? await Spawn.run("/usr/sbin/losetup", ["-d", loop], timeout: .seconds(30))
            return value
        } catch {
            _ = try? await Spawn.run("/usr/sbin/losetup", ["-d", loop], timeout: .seconds(30))
            throw error
        }
    }

    /// The SHA-256 of a file in the disk's root file system, read with debugfs (no mount).
    static func fileSHA(_ disk: String, _ path: String) async throws -> String {
        try await withRootLoop(disk) { loop in
            let result = try await Spawn.run(
                "/bin/sh", ["-c", "debugfs -R 'cat \(path)' \(loop) 2>/dev/null | sha256sum"], timeout: .seconds(60))
            return String(result.output.prefix(64))
        }
    }

    /// Overwrites the first file-system block of `path` on the disk file with a pattern; returns the byte offset.
    @discardableResult
    static func damageFile(_ disk: String, _ path: String) async throws -> Int {
        let root = try await rootPartition(disk)
        let (block, blockSize) = try await withRootLoop(disk) { loop -> (Int, Int) in
            let bmap = try await Spawn.run("/usr/sbin/debugfs", ["-R", "bmap \(path) 0", loop], timeout: .seconds(60))
            let size = try await Spawn.run("/usr/sbin/dumpe2fs", ["-h", loop], timeout: .seconds(60))
            let number = bmap.output.split(whereSeparator: \.isNewline).compactMap {
                Int($0.trimmingCharacters(in: .whitespaces))
            }.last
            let blockSize = size.output.split(whereSeparator: \.isNewline).first { $0.hasPrefix("Block size:") }
                .flatMap { Int($0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) }
            guard let number, number > 0, let blockSize else {
                throw DrillError("cannot locate \(path): \(bmap.output) / \(size.output.prefix(300))")
            }
            return (number, blockSize)
        }
        let offset = root.offset + block * blockSize
        guard let handle = FileHandle(forWritingAtPath: disk) else { throw DrillError("cannot open \(disk)") }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data(repeating: 0x5A, count: blockSize))
        try handle.synchronize()
        return offset
    }
}

struct DrillError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
