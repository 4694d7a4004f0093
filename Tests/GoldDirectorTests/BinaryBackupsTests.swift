import Foundation
import GoldCore
import GoldDirector
import Testing

@Suite struct BinaryBackupsTests {
    @Test func aSetKeepsEachFileWithHashModeAndTimeAndRefusesABadHash() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gold-backups-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let backups = BinaryBackups(root: root)
        let old = Array("old hello".utf8)
        let sha = SHA256Hex.of(old)
        _ = try backups.put(machine: "m1", binary: "hello", id: "wf-1.5.1", path: "/usr/local/bin/hello", sha256: sha, mode: 0o755, body: old,
            now: Date(timeIntervalSince1970: 1000))
        let set = try backups.put(machine: "m1", binary: "hello", id: "wf-1.5.1", path: "/usr/local/share/hello.txt", sha256: nil, mode: 0o644, body: [],
            now: Date(timeIntervalSince1970: 1001))
        #expect(set.files.map(\.path) == ["/usr/local/bin/hello", "/usr/local/share/hello.txt"])
        #expect(set.files[0].sha256 == sha && set.files[0].mode == 0o755 && set.files[0].size == old.count)
        #expect(set.at == Date(timeIntervalSince1970: 1000))
        #expect(try backups.file(machine: "m1", binary: "hello", id: "wf-1.5.1", path: "/usr/local/bin/hello") == old)
        #expect(try backups.list(machine: "m1", binary: "hello").map(\.id) == ["wf-1.5.1"])

        // A body that does not match its hash changes nothing.
        #expect(throws: GoldError.self) {
            try backups.put(machine: "m1", binary: "hello", id: "wf-2.5.1", path: "/usr/local/bin/hello", sha256: sha, mode: 0o755, body: [1, 2])
        }
        #expect(try backups.list(machine: "m1", binary: "hello").count == 1)
        for (binary, id, path) in [("../x", "i", "/a"), ("b", "..", "/a"), ("b", "i", "relative"), ("b", "i", "/a/../etc/shadow")] {
            #expect(throws: GoldError.self) { try backups.put(machine: "m1", binary: binary, id: id, path: path, sha256: nil, mode: 0o644, body: []) }
        }
    }
}
