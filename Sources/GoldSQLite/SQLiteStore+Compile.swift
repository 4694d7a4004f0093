import Foundation
import GRDB
import GoldCompile
import GoldCore

/// The compile queue's jobs and logs, saved by `StoreCompileQueue`.
extension SQLiteStore: CompileJobStore {
    public func loadCompileJobs() throws -> (entries: [CompileQueueBook.Entry], logs: [CacheKey: String]) {
        try writer.read { db in
            let entries = try String.fetchAll(db, sql: "SELECT entry FROM compile_job").map {
                try Self.decode(CompileQueueBook.Entry.self, $0)
            }
            var logs: [CacheKey: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, text FROM compile_log ORDER BY id") {
                logs[CacheKey(hex: row["key"]), default: ""] += row["text"] as String
            }
            return (entries, logs)
        }
    }

    public func saveCompileChanges(_ changes: [CompileQueueBook.Change]) throws {
        try writer.write { db in
            for change in changes {
                switch change {
                case .entry(let entry):
                    // An older revision never replaces a newer one.
                    try db.execute(
                        sql: """
                            INSERT INTO compile_job (key, revision, entry) VALUES (?, ?, ?)
                            ON CONFLICT (key) DO UPDATE SET revision = excluded.revision, entry = excluded.entry
                            WHERE excluded.revision > compile_job.revision
                            """,
                        arguments: [entry.job.key.hex, entry.revision, try Self.json(entry)])
                case .log(let key, let text):
                    try db.execute(
                        sql: "INSERT INTO compile_log (key, text) VALUES (?, ?)", arguments: [key.hex, text])
                }
            }
        }
    }
}
