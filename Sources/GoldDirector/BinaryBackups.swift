import Crypto
import Foundation
import GoldCore
import NIOCore

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
        guard !value.isEmpty, value.count <= 128, value.unicodeScalars.allSatisfy(allowed.contains), value != ".",
            value != ".."
        else {
            throw GoldError(.invalidInput, "'\(value)' must be 1–128 letters, digits, '.', '_' or '-'", at: field)
        }
    }

    static func checkPath(_ path: String) throws {
        guard path.hasPrefix("/"), !path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }),
            !path.contains("\0"), path.count < 1024
        else {
            throw GoldError(
                .invalidInput, "'\(path)' must be an absolute path without . or .. segments", at: "query.path")
        }
    }

    func setFile(_ machine: String, _ binary: String, _ id: String) -> String {
        "\(root)/sets/\(machine)/\(binary)/\(id).json"
    }

    /// The names, path and mode of a backup, checked before any of its body is read.
    public static func check(machine: String, binary: String, id: String, path: String, mode: Int) throws {
        try checkName(machine, "path.name")
        try checkName(binary, "path.binary")
        try checkName(id, "path.id")
        try checkPath(path)
        guard (0...0o7777).contains(mode) else {
            throw GoldError(.invalidInput, "mode \(mode) is not a file mode", at: "query.mode")
        }
    }

    /// A body written to a temporary file beside the blobs, hashed as it arrived.
    public struct Received: Sendable {
        public var temporary: String
        public var sha256: String
        public var size: Int
    }

    /// Streams a body to disk while hashing it, never holding more than one piece in memory; more than `limit` bytes is
    /// a 413 and leaves nothing behind.
    public func receive<Body: AsyncSequence>(_ body: Body, limit: Int) async throws -> Received
    where Body.Element == ByteBuffer {
        try FileManager.default.createDirectory(atPath: root + "/blobs", withIntermediateDirectories: true)
        let temporary = "\(root)/blobs/.upload-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
            let handle = FileHandle(forWritingAtPath: temporary)
        else {
            throw GoldError(.unavailable, "cannot write \(temporary)", at: temporary)
        }
        var hasher = SHA256()
        var size = 0
        do {
            defer { try? handle.close() }
            for try await piece in body {
                size += piece.readableBytes
                guard size <= limit else {
                    throw GoldError(.tooLarge, "a backed-up file is at most \(limit) bytes", at: "body")
                }
                let bytes = Data(piece.readableBytesView)
                hasher.update(data: bytes)
                try handle.write(contentsOf: bytes)
            }
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        return Received(
            temporary: temporary, sha256: hasher.finalize().map { String(format: "%02x", $0) }.joined(), size: size)
    }

    /// Adds one file to the set `id` (created on first use). The body must hash to `sha256`.
    public func put(
        machine: String, binary: String, id: String, path: String, sha256: String?, mode: Int, body: [UInt8],
        now: Date = Date()
    ) throws -> BackupSet {
        try Self.check(machine: machine, binary: binary, id: id, path: path, mode: mode)
        var received: Received?
        if !body.isEmpty || sha256 != nil {
            try FileManager.default.createDirectory(atPath: root + "/blobs", withIntermediateDirectories: true)
            let temporary = "\(root)/blobs/.upload-\(UUID().uuidString)"
            guard FileManager.default.createFile(atPath: temporary, contents: Data(body)) else {
                throw GoldError(.unavailable, "cannot write \(temporary)")
            }
            received = Received(temporary: temporary, sha256: SHA256Hex.of(body), size: body.count)
        }
        return try put(
            machine: machine, binary: binary, id: id, path: path, sha256: sha256, mode: mode, received: received,
            now: now)
    }

    /// Records a received body (or an absent file) in the set `id`; the body must hash to `sha256`. The temporary file
    /// becomes the blob or goes.
    public func put(
        machine: String, binary: String, id: String, path: String, sha256: String?, mode: Int, received: Received?,
        now: Date = Date()
    ) throws -> BackupSet {
        try Self.check(machine: machine, binary: binary, id: id, path: path, mode: mode)
        defer { if let received { try? FileManager.default.removeItem(atPath: received.temporary) } }
        if let sha256 {
            let actual = received?.sha256 ?? SHA256Hex.of([UInt8]())
            guard actual == sha256 else {
                throw GoldError(
                    .invalidInput, "the body's sha256 is \(actual), not \(sha256): the backup is not stored",
                    at: "query.sha256")
            }
            let blob = "\(root)/blobs/\(sha256)"
            if !FileManager.default.fileExists(atPath: blob) {
                try FileManager.default.createDirectory(atPath: root + "/blobs", withIntermediateDirectories: true)
                if let received {
                    guard rename(received.temporary, blob) == 0 else {
                        throw GoldError(.unavailable, "cannot rename into \(blob): errno \(errno)", at: blob)
                    }
                } else {
                    try AtomicWrite.write(Data(), to: blob)
                }
            }
        } else {
            guard (received?.size ?? 0) == 0 else {
                throw GoldError(.invalidInput, "a file recorded as absent has no body", at: "body")
            }
        }
        let size = received?.size ?? 0
        let indexPath = setFile(machine, binary, id)
        var set =
            (try? JSONDecoder.gold.decode(BackupSet.self, from: Data(contentsOf: URL(fileURLWithPath: indexPath))))
            ?? BackupSet(id: id, machine: machine, binary: binary, at: now, files: [])
        set.files.removeAll { $0.path == path }
        set.files.append(File(path: path, sha256: sha256, size: size, mode: mode))
        set.files.sort { $0.path < $1.path }
        try FileManager.default.createDirectory(
            atPath: (indexPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
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
        if let handle = FileHandle(forWritingAtPath: temporary) {
            try? handle.synchronize()
            try? handle.close()
        }
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
