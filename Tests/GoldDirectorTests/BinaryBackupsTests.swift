import Foundation
import GoldCore
import GoldDirector
import GoldHTTPClient
import Testing

@Suite struct BinaryBackupsTests {
    @Test func aSetKeepsEachFileWithHashModeAndTimeAndRefusesABadHash() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gold-backups-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let backups = BinaryBackups(root: root)
        let old = Array("old hello".utf8)
        let sha = SHA256Hex.of(old)
        _ = try backups.put(
            machine: "m1", binary: "hello", id: "wf-1.5.1", path: "/usr/local/bin/hello", sha256: sha, mode: 0o755,
            body: old,
            now: Date(timeIntervalSince1970: 1000))
        let set = try backups.put(
            machine: "m1", binary: "hello", id: "wf-1.5.1", path: "/usr/local/share/hello.txt", sha256: nil,
            mode: 0o644, body: [],
            now: Date(timeIntervalSince1970: 1001))
        #expect(set.files.map(\.path) == ["/usr/local/bin/hello", "/usr/local/share/hello.txt"])
        #expect(set.files[0].sha256 == sha && set.files[0].mode == 0o755 && set.files[0].size == old.count)
        #expect(set.at == Date(timeIntervalSince1970: 1000))
        #expect(try backups.file(machine: "m1", binary: "hello", id: "wf-1.5.1", path: "/usr/local/bin/hello") == old)
        #expect(try backups.list(machine: "m1", binary: "hello").map(\.id) == ["wf-1.5.1"])

        // A body that does not match its hash changes nothing.
        #expect(throws: GoldError.self) {
            try backups.put(
                machine: "m1", binary: "hello", id: "wf-2.5.1", path: "/usr/local/bin/hello", sha256: sha, mode: 0o755,
                body: [1, 2])
        }
        #expect(try backups.list(machine: "m1", binary: "hello").count == 1)
        for (binary, id, path) in [
            ("../x", "i", "/a"), ("b", "..", "/a"), ("b", "i", "relative"), ("b", "i", "/a/../etc/shadow"),
        ] {
            #expect(throws: GoldError.self) {
                try backups.put(machine: "m1", binary: binary, id: id, path: path, sha256: nil, mode: 0o644, body: [])
            }
        }
    }
}

/// The backup route streams the body to disk: the file round-trips, a wrong hash stores nothing, no upload is left.
@Suite struct BackupRouteTests {
    @Test func aBackupStreamsToDiskAndRoundTrips() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "gold-backup-route-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try await DirectorHarness.with(backups: root) { gold in
            let body = String(repeating: "binary bytes ", count: 400_000)  // 5.2 MB
            let sha = SHA256Hex.of(Array(body.utf8))
            let path = "/v1/machines/web-01/backups/hello/wf-1.5.1?path=/usr/local/bin/hello&mode=755&sha256=\(sha)"
            let put = try await gold.call(
                "PUT", path, as: "agent-web-01", body: body, contentType: "application/octet-stream")
            #expect(put.status == 200, "\(put.text)")
            let file = try await gold.call(
                "GET", "/v1/machines/web-01/backups/hello/wf-1.5.1/file?path=/usr/local/bin/hello", as: "viewer")
            #expect(file.body == Array(body.utf8))
            let wrong = try await gold.call(
                "PUT",
                path.replacingOccurrences(of: "wf-1.5.1", with: "wf-2.5.1").replacingOccurrences(
                    of: sha, with: String(repeating: "0", count: 64)),
                as: "agent-web-01", body: "other", contentType: "application/octet-stream")
            #expect(wrong.status == 400)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: root + "/blobs").filter {
                $0.hasPrefix(".upload-")
            }
            #expect(leftovers.isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/blobs") == [sha])
        }
    }
}
