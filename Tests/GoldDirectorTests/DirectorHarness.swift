import Foundation
import GoldCore
import GoldDirector
import GoldHTTPClient
import GoldRunner
import GoldSQLite
import GoldServer
import GoldWorkflow
import Hummingbird
import Logging
import ServiceLifecycle

/// A live director on a loopback port over an in-memory store, with tokens for each role.
struct DirectorHarness {
    let base: String
    let store: any GoldStore
    var tokens: [String: String] = [:]

    func call(
        _ method: String, _ path: String, token: String? = nil, body: String? = nil,
        contentType: String = "application/json",
        headers extra: [(String, String)] = []
    ) async throws -> HTTPClientResponse {
        var headers: [(String, String)] = [("Content-Type", contentType)] + extra
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        // Far above any answer's time: a loaded parallel test run has paused for ~30 s, the client's default.
        return try await HTTPClient.send(
            method, base + path, headers: headers, body: body.map { Array($0.utf8) }, timeout: .seconds(120))
    }

    func call(
        _ method: String, _ path: String, as role: String, body: String? = nil,
        contentType: String = "application/json",
        headers: [(String, String)] = []
    ) async throws -> HTTPClientResponse {
        try await call(method, path, token: tokens[role]!, body: body, contentType: contentType, headers: headers)
    }

    static func with(
        actions: (any MachineActions)? = nil, imageStore: String? = nil, backups: String? = nil,
        _ body: (DirectorHarness) async throws -> Void
    ) async throws {
        let store = try SQLiteStore()
        _ = try await store.applyFleet(
            Fleet(machines: [
                MachineSpec(name: "web-01", role: "web", macs: [MACAddress("52:54:00:00:00:01")!]),
                MachineSpec(name: "web-02", role: "web", macs: [MACAddress("52:54:00:00:00:02")!]),
            ]), prune: false, dryRun: false, actor: "setup")
        var tokens: [String: String] = [:]
        for (name, role, machine) in [
            ("admin", Role.admin, nil), ("operator", .operator, nil), ("viewer", .viewer, nil),
            ("server", .server, nil), ("agent-web-01", .agent, "web-01" as String?),
        ] {
            let secret = TokenSecret.generate()
            try await store.insertToken(
                TokenRecord(
                    id: "tok-\(name)", hash: secret.hash, role: role, machine: machine, label: name, createdAt: Date()),
                actor: "setup")
            tokens[name] = secret.value
        }
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let runner = actions.map { WorkflowRunner(store: store, actions: $0, logger: logger) }
        let director = Director(
            store: store, registry: GoldProcess.Metrics.registry, logger: logger, workflows: runner,
            backups: backups.map(BinaryBackups.init(root:)), imageStore: imageStore)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = director.makeApplication(host: "127.0.0.1", port: 0) { port in continuation.yield(port) }
        // The runner runs as in `gold serve`: its executor runs the commands the API's workflows issue.
        let services: [any Service] = [app] + (runner.map { [$0] } ?? [])
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                throw GoldError(.internalError, "the director did not start")
            }
            let harness = DirectorHarness(base: "http://127.0.0.1:\(port)", store: store, tokens: tokens)
            do {
                try await body(harness)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
