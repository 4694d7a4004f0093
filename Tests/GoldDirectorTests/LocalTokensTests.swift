import Foundation
import GoldCore
import GoldServer
import Testing

@Suite struct LocalTokensTests {
    /// The way back in: a token written into the store directly, on the director's host.
    @Test func aLocalAdminTokenGoesIntoTheStore() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gold-local-token-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let initialized = try await Initializer.run(dataDir: dir)
        let created = try await LocalTokens.create(
            config: initialized.configFile, role: .admin, machine: nil, label: nil)
        #expect(created.token.count > 20)
        let store = try GoldProcess.openStore(
            try ServerConfig.parse(yaml: String(contentsOfFile: initialized.configFile, encoding: .utf8)))
        let admins = try await store.listTokens().filter { $0.role == .admin && $0.revokedAt == nil }
        #expect(admins.count == 2)
        #expect(try await store.token(hash: TokenSecret(value: created.token).hash)?.id == created.id)
        #expect(admins.contains { $0.label == "admin (gold token create --local)" })
    }

    @Test func noStoreNoToken() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gold-local-token-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "data_dir: \(dir)\n".write(toFile: dir + "/gold.yaml", atomically: true, encoding: .utf8)
        await #expect(throws: GoldError.self) {
            try await LocalTokens.create(config: dir + "/gold.yaml", role: .admin, machine: nil, label: nil)
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/gold.db"))
        await #expect(throws: GoldError.self) {
            try await LocalTokens.create(config: dir + "/missing.yaml", role: .admin, machine: nil, label: nil)
        }
    }
}
