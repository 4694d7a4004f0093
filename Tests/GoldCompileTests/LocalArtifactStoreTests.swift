import Foundation
import Testing

@testable import GoldCompile

@Suite struct LocalArtifactStoreTests {
    static let job = MemoryCompileQueueTests.job("store")
    static var metadata: ArtifactMetadata {
        ArtifactMetadata(key: job.key, kind: job.kind, inputs: job.inputs, machines: job.machines, worker: "w1")
    }

    @Test func publishesByContentAndFindsByKey() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("in/a", "alpha")
        try dir.write("in/b", "alpha")
        let store = try LocalArtifactStore(root: dir.path + "/store")
        #expect(try store.manifest(for: Self.job.key) == nil)
        let manifest = try store.publish(
            key: Self.job.key,
            files: [
                .init(name: "a", path: dir.path + "/in/a", mode: 0o755), .init(name: "b", path: dir.path + "/in/b"),
            ],
            metadata: Self.metadata)
        let sha = Hashing.sha256(Data("alpha".utf8))
        #expect(manifest.files.map(\.sha256) == [sha, sha])
        #expect(manifest.file("a")?.mode == 0o755 && manifest.file("a")?.size == 5)
        #expect(try store.manifest(for: Self.job.key) == manifest)
        // Same content, one blob.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/store/blobs") == [sha])
        try store.fetch(sha256: sha, to: dir.path + "/out")
        #expect(try String(contentsOfFile: dir.path + "/out", encoding: .utf8) == "alpha")

        // A second publish of the key keeps the first artifact.
        try dir.write("in/c", "beta")
        let again = try store.publish(
            key: Self.job.key, files: [.init(name: "c", path: dir.path + "/in/c")], metadata: Self.metadata)
        #expect(again == manifest)
        #expect(try store.keys() == [Self.job.key])
    }

    @Test func failedPublishLeavesNothingVisible() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("in/a", "alpha")
        let store = try LocalArtifactStore(root: dir.path + "/store")
        #expect(throws: CompileError.self) {
            try store.publish(
                key: Self.job.key,
                files: [
                    .init(name: "a", path: dir.path + "/in/a"), .init(name: "gone", path: dir.path + "/in/missing"),
                ],
                metadata: Self.metadata)
        }
        #expect(try store.manifest(for: Self.job.key) == nil)
        #expect(try store.keys().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/store/tmp").isEmpty)
        #expect(throws: CompileError.self) { try store.fetch(sha256: "../../etc/passwd", to: dir.path + "/x") }
    }
}
