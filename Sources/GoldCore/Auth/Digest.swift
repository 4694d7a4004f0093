import Crypto
import Foundation

/// SHA-256 as lowercase hex, for files and bodies whose integrity Gold checks (backups, artifacts).
public enum SHA256Hex {
    public static func of(_ bytes: some DataProtocol) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// A file's digest, read 1 MiB at a time.
    public static func of(file path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw GoldError(.notFound, "cannot read \(path)", at: path)
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
