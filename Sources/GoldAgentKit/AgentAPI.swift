import Foundation
import GoldAPI
import GoldCore
import GoldHTTPClient
import GoldWorkflow

/// The agent's side of the director's API (through the deploy server it booted from, or the director itself).
public struct AgentAPI: Sendable {
    public var director: String
    public var machine: String
    public var token: String

    public init(director: String, machine: String, token: String) {
        self.director = director
        self.machine = machine
        self.token = token
    }

    var headers: [(String, String)] { [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")] }

    func send(_ method: String, _ path: String, _ body: some Encodable, timeout: Duration = .seconds(30)) async throws
        -> HTTPClientResponse
    {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let response = try await HTTPClient.send(
            method, director + path, headers: headers, body: Array(try encoder.encode(body)), timeout: timeout)
        guard (200..<300).contains(response.status) else {
            throw AgentError(
                "the director answered \(response.status) to \(method) \(path): \(response.text.prefix(300))")
        }
        return response
    }

    /// Netboot check-in with the enrolment token; returns the session token for the rest of this boot.
    public func checkIn(inventory: Inventory) async throws -> (token: String, mode: String) {
        struct Body: Encodable { var inventory: Inventory }
        struct Answer: Decodable {
            var token: String
            var mode: String
        }
        let response = try await send("POST", "/v1/machines/\(machine)/check-in", Body(inventory: inventory))
        let answer = try JSONDecoder().decode(Answer.self, from: Data(response.body))
        return (answer.token, answer.mode)
    }

    public func commands(wait: Int) async throws -> [Command] {
        let response = try await HTTPClient.send(
            "GET", "\(director)/v1/agent/commands?machine=\(machine)&wait=\(wait)", headers: headers,
            timeout: .seconds(Int64(wait) + 15))
        guard response.status == 200 else {
            throw AgentError("the director answered \(response.status) for commands: \(response.text.prefix(300))")
        }
        return try JSONDecoder().decode([Command].self, from: Data(response.body))
    }

    public func report(_ command: String, _ result: HandlerResult) async throws {
        _ = try await send(
            "POST", "/v1/agent/commands/\(command)/result",
            AgentCommandResult(machine: machine, ok: result.ok, detail: result.detail, outputs: result.outputs))
    }

    public func progress(_ command: String, fraction: Double, detail: String?) async {
        _ = try? await send(
            "POST", "/v1/agent/commands/\(command)/progress",
            AgentCommandProgress(machine: machine, fraction: fraction, detail: detail), timeout: .seconds(5))
    }

    public func bootSuccess(kernel: String) async throws {
        _ = try await send("POST", "/v1/machines/\(machine)/boot-success", BootSuccess(kernel: kernel))
    }

    public func spec() async throws -> MachineSpec {
        let response = try await HTTPClient.send(
            "GET", "\(director)/v1/agent/spec?machine=\(machine)", headers: headers)
        guard response.status == 200 else {
            throw AgentError("the director answered \(response.status) for this machine's spec")
        }
        return try JSONDecoder().decode(MachineSpec.self, from: Data(response.body))
    }

    public func putInventory(_ inventory: Inventory) async throws {
        _ = try await send("PUT", "/v1/machines/\(machine)/inventory", inventory)
    }
}

extension AgentAPI {
    public struct BackupFile: Codable, Sendable, Hashable {
        public var path: String
        public var sha256: String?
        public var size: Int
        public var mode: Int
    }

    public struct BackupSet: Codable, Sendable {
        public var id: String
        public var at: Date
        public var files: [BackupFile]
    }

    /// Keeps the old file on the director before it is replaced; `bytes` nil records that there was none.
    func putBackup(binary: String, id: String, path: String, mode: UInt16, bytes: [UInt8]?) async throws {
        var query = "path=\(Self.escape(path))&mode=\(String(mode, radix: 8))"
        query += bytes.map { "&sha256=\(SHA256Hex.of($0))" } ?? "&absent=true"
        let response = try await HTTPClient.send(
            "PUT", "\(director)/v1/machines/\(machine)/backups/\(binary)/\(id)?\(query)",
            headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/octet-stream")],
            body: bytes ?? [], timeout: .seconds(300))
        guard response.status == 200 else {
            throw AgentError(
                "the director refused the backup of \(path) (\(response.status)): \(response.text.prefix(300))")
        }
    }

    func backups(binary: String) async throws -> [BackupSet] {
        let response = try await HTTPClient.send(
            "GET", "\(director)/v1/machines/\(machine)/backups/\(binary)", headers: headers)
        guard response.status == 200 else {
            throw AgentError("backups of \(binary): \(response.status) \(response.text.prefix(200))")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode([BackupSet].self, from: Data(response.body))
    }

    func backupFile(binary: String, id: String, path: String) async throws -> [UInt8] {
        let response = try await HTTPClient.send(
            "GET", "\(director)/v1/machines/\(machine)/backups/\(binary)/\(id)/file?path=\(Self.escape(path))",
            headers: headers, timeout: .seconds(300))
        guard response.status == 200 else {
            throw AgentError("backup \(id) of \(path): \(response.status) \(response.text.prefix(200))")
        }
        return response.body
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "/-._~")))
            ?? text
    }
}
