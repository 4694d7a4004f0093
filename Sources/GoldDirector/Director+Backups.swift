import Foundation
import GoldCore
import Hummingbird

extension BinaryBackups.BackupSet: ResponseEncodable {}

extension Director {
    func requireBackups() throws -> BinaryBackups {
        guard let backups else { throw GoldError(.unavailable, "this director keeps no binary backups") }
        return backups
    }

    /// Backups of replaced binaries: the machine's agent puts the old file before it installs the new one.
    func addBackupRoutes(_ router: Router<DirectorContext>) {
        router.put("/v1/machines/{name}/backups/{binary}/{id}") { request, context -> BinaryBackups.BackupSet in
            let name = try context.parameters.require("name")
            let identity = try context.require(.machineReport(name))
            guard try await store.machine(named: name) != nil else {
                throw GoldError(.notFound, "no machine named '\(name)'", at: "path.name")
            }
            let query = request.uri.queryParameters
            guard let path = query.get("path") else {
                throw GoldError(.invalidInput, "'path' is required", at: "query.path")
            }
            guard let modeText = query.get("mode"), let mode = Int(modeText, radix: 8) else {
                throw GoldError(.invalidInput, "'mode' must be an octal file mode such as 755", at: "query.mode")
            }
            let absent = query.get("absent") == "true"
            let sha = query.get("sha256")
            guard absent || (sha?.count == 64) else {
                throw GoldError(
                    .invalidInput, "'sha256' (64 hex digits) is required unless absent=true", at: "query.sha256")
            }
            let binary = try context.parameters.require("binary")
            let id = try context.parameters.require("id")
            // Names first, then the body straight to disk while hashing: a 512 MiB binary is never in memory.
            try BinaryBackups.check(machine: name, binary: binary, id: id, path: path, mode: mode)
            let backups = try requireBackups()
            let received = try await backups.receive(request.body, limit: 512 << 20)
            let set = try await Self.onOwnThread {
                try backups.put(
                    machine: name, binary: binary, id: id, path: path, sha256: absent ? nil : sha, mode: mode,
                    received: received)
            }
            _ = try await store.appendEvent(
                NewEvent(
                    actor: identity.actor, kind: "machine.binary.backup", machine: name,
                    message: absent
                        ? "\(binary): \(path) did not exist before the update (backup \(id))"
                        : "\(binary): backed up \(path) sha256 \(sha ?? "") (\(received.size) bytes, mode \(modeText)) as \(id)"
                ))
            return set
        }
        router.get("/v1/machines/{name}/backups/{binary}") { _, context -> [BinaryBackups.BackupSet] in
            let name = try context.parameters.require("name")
            _ = try (try? context.require(.read)) ?? context.require(.machineReport(name))
            return try requireBackups().list(machine: name, binary: try context.parameters.require("binary"))
        }
        router.get("/v1/machines/{name}/backups/{binary}/{id}/file") { request, context -> Response in
            let name = try context.parameters.require("name")
            _ = try (try? context.require(.read)) ?? context.require(.machineReport(name))
            guard let path = request.uri.queryParameters.get("path") else {
                throw GoldError(.invalidInput, "'path' is required", at: "query.path")
            }
            let bytes = try requireBackups().file(
                machine: name, binary: try context.parameters.require("binary"),
                id: try context.parameters.require("id"), path: path)
            var headers = HTTPFields()
            headers[.contentType] = "application/octet-stream"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}
