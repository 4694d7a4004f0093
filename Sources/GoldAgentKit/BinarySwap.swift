import Foundation
import GoldCore
import GoldWorkflow

extension LiveHandlers {
    /// Backs up every file the new build installs (to the director, with hash, mode and time), then puts the new
    /// files in place by rename. Nothing is replaced before every backup is stored.
    func replaceBinary(name: String, key: String, command: Command, api: AgentAPI) async throws -> HandlerResult {
        if mode == .netboot {
            // An update that needs a reboot is installed from the netboot environment: onto the disk's root.
            return try await onLocalDisk {
                try await $0.replaceBinary(name: name, key: key, command: command, api: api)
            }
        }
        let manifest = try await ArtifactClient(base: api.director, token: api.token).manifest(key)
        guard let outputs = manifest.metadata.binary?.outputs, !outputs.isEmpty else {
            return .failed("artifact \(key.prefix(12)) is not a binary build (no outputs)")
        }
        // The backup set's id is this command's: a repeated command writes the same set.
        let id = command.id
        var backedUp: [String] = []
        for output in outputs {
            let path = root + output.path
            if FileManager.default.fileExists(atPath: path) {
                let old = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
                let mode =
                    (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int).map {
                        UInt16($0 & 0o7777)
                    } ?? 0o755
                try await api.putBackup(binary: name, id: id, path: output.path, mode: mode, bytes: old)
                backedUp.append("\(output.path) sha256 \(SHA256Hex.of(old).prefix(12))…")
            } else {
                try await api.putBackup(binary: name, id: id, path: output.path, mode: output.mode, bytes: nil)
                backedUp.append("\(output.path) (absent)")
            }
        }
        let artifacts = ArtifactClient(base: api.director, token: api.token)
        var installed: [String] = []
        for output in outputs {
            let bytes = try await artifacts.bytes(sha256: output.sha256)
            try SafeFile.install(bytes, at: root + output.path, mode: output.mode)
            installed.append("\(output.path) sha256 \(output.sha256.prefix(12))…")
        }
        return HandlerResult(
            ok: true,
            detail:
                "backed up \(backedUp.joined(separator: ", ")) as \(id); installed \(installed.joined(separator: ", "))",
            outputs: ["binary.\(name).backup": id])
    }

    /// Puts back the newest backup set of `name`: each file as it was (or removed, if there was none).
    func restoreBinary(name: String, api: AgentAPI) async throws -> HandlerResult {
        if mode == .netboot {
            return try await onLocalDisk { try await $0.restoreBinary(name: name, api: api) }
        }
        guard let set = try await api.backups(binary: name).last else {
            return .failed("no backup of \(name) on the director: nothing to restore")
        }
        var restored: [String] = []
        for file in set.files {
            let path = root + file.path
            guard let sha = file.sha256 else {
                try? FileManager.default.removeItem(atPath: path)
                restored.append("\(file.path) removed (absent before)")
                continue
            }
            let bytes = try await api.backupFile(binary: name, id: set.id, path: file.path)
            let actual = SHA256Hex.of(bytes)
            guard actual == sha else {
                return .failed("backup of \(file.path) arrived with sha256 \(actual), not \(sha): not restored")
            }
            try SafeFile.install(bytes, at: path, mode: UInt16(file.mode))
            restored.append("\(file.path) sha256 \(sha.prefix(12))…")
        }
        return HandlerResult(
            ok: true, detail: "restored backup \(set.id) from \(set.at): \(restored.joined(separator: ", "))")
    }

    /// From the netboot environment: `body` with handlers rooted at the local disk's root filesystem, unmounted after.
    func onLocalDisk(_ body: (LiveHandlers) async throws -> HandlerResult) async throws -> HandlerResult {
        let disk = try await MountedDisk.mount(runner: runner)
        let result: HandlerResult
        if let root = disk.rootDir {
            do { result = try await body(LiveHandlers(mode: .installed, runner: runner, root: root)) } catch {
                result = .failed("\(error)")
            }
        } else {
            result = .failed("no root filesystem (etc/fstab) on the local disks: \(disk.devices.map(\.device))")
        }
        await disk.unmount(runner: runner)
        return result
    }
}
