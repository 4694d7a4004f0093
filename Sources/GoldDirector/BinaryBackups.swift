import Foundation
import GoldCore

/// Backups of the binaries an update replaced, kept by the director before the new file goes in: one set per
/// replacement (the agent's command id), each file with its path, mode, SHA-256 and time. Blobs are stored by
/// hash; an index file per set is written last, by rename, so a set is never visible half-written.
public struct BinaryBackups: Sendable {
    public struct File: Hashable, Sendable, Codable {
        public var path: String
        /// Nil when the machine had no file at `path`: restoring removes it.
        public var sha256: String?
        public var size: Int
        public var mode: Int
    }

    public struct BackupSet: Hashable, Sendable, Codable {
        public var id: String
        public var machine: String
        public var binary: String
        public var at: Date
        public var files: [File]
    }

    public let root: String

    public init(root: String) { self.root = root }

    static func checkName(_ value: String, _ field: String) throws {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-"))
        guard !value.isEmpty, value.count <= 128, value.unicodeScalars.allSatisfy(allowed.contains), value != ".", value != ".." else {
            throw GoldError(.invalidInput, "'\(value)' must be 1–128 letters, digits, '.', '_' or '-'", at: field)
        }
    }

    static func checkPath(_ path: String) throws {
        guard path.hasPrefix("/"), !path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }), !path.contains("\0"), path.count < 1024 else {
            throw GoldError(.invalidInput, "'\(path)' must be an absolute path without . or .. segments", at: "query.path")
        }
    }

    func setFile(_ machine: String, _ binary: String, _ id: String) -> String { "\(root)/sets/\(machine)/\(binary)/\(id).json" }

    /// Adds one file to the set `id` (created on first use). The body must hash to `sha256`.
    public func put(machine: String, binary: String, id: String, path: String, sha256: String?, mode: Int, body: [UInt8], now: Date = Date()) throws -> BackupSet {
        try Self.checkName(machine, "path.name")
        try Self.checkName(binary, "path.binary")
        try Self.checkName(id, "path.id")
        try Self.checkPath(path)
        guard (0...0o7777).contains(mode) else { throw GoldError(.invalidInput, "mode \(mode) is not a file mode", at: "query.mode") }
        if let sha256 {
            let actual = SHA256Hex.of(body)
            guard actual == sha256 else {
                throw GoldError(.invalidInput, "the body's sha256 is \(actual), not \(sha256): the backup is not stored", at: "query.sha256")
            }
            let blob = "\(root)/blobs/\(sha256)"
            if !FileManager.default.fileExists(atPath: blob) {
                try FileManager.default.createDirectory(atPath: root + "/blobs", withIntermediateDirectories: true)
                try AtomicWrite.write(Data(body), to: blob)
            }
        } else {
            guard body.isEmpty else { throw GoldError(.invalidInput, "a file recorded as absent has no body", at: "body") }
        }
        let indexPath = setFile(machine, binary, id)
        var set = (try? JSONDecoder.gold.decode(BackupSet.self, from: Data(contentsOf: URL(fileURLWithPath: indexPath))))
            ?? BackupSet(id: id, machine: machine, binary: binary, at: now, files: [])
        set.files.removeAll { $0.path == path }
        set.files.append(File(path: path, sha256: sha256, size: body.count, mode: mode))
        set.files.sort { $0.path < $1.path }
        try FileManager.default.createDirectory(atPath: (indexPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try AtomicWrite.write(try JSONEncoder.gold.encode(set), to: indexPath)
        return set
    }

    /// The machine's backup sets of `binary`, oldest first.
    public func list(machine: String, binary: String) throws -> [BackupSet] {
        try Self.checkName(machine, "path.name")
        try Self.checkName(binary, "path.binary")
        let dir = "\(root)/sets/\(machine)/\(binary)"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { $0.hasSuffix(".json") }.compactMap {
            try? JSONDecoder.gold.decode(BackupSet.self, from: Data(contentsOf: URL(fileURLWithPath: "\(dir)/\($0)")))
        }.sorted { ($0.at, $0.id) < ($1.at, $1.id) }
    }

    /// The bytes of one backed-up file.
    public func file(machine: String, binary: String, id: String, path: String) throws -> [UInt8] {
        try Self.checkName(id, "path.id")
        guard let set = try list(machine: machine, binary: binary).first(where: { $0.id == id }) else {
            throw GoldError(.notFound, "machine \(machine) has no backup \(id) of \(binary)", at: "path.id")
        }
        guard let file = set.files.first(where: { $0.path == path }) else {
            throw GoldError(.notFound, "backup \(id) of \(binary) has no file \(path)", at: "query.path")
        }
        guard let sha = file.sha256 else { return [] }
        return Array(try Data(contentsOf: URL(fileURLWithPath: "\(root)/blobs/\(sha)")))
    }
}

/// Write to a temporary file beside the target, flush, rename: readers see the old file or the new one.
enum AtomicWrite {
    static func write(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp-\(UInt32.random(in: .min ... .max))"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw GoldError(.unavailable, "cannot write \(temporary)", at: path)
        }
        if let handle = FileHandle(forWritingAtPath: temporary) { try? handle.synchronize(); try? handle.close() }
        guard rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw GoldError(.unavailable, "cannot rename into \(path): errno \(errno)", at: path)
        }
    }
}

extension JSONDecoder {
    static var gold: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

extension JSONEncoder {
    static var gold: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return encoder
    }
}
