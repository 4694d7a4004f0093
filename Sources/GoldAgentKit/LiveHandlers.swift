import Foundation
import GoldCore
import GoldHTTPClient
import GoldImage
import GoldSpawn
import GoldWorkflow

/// The agent's command types, run on the machine. Only these; arguments come validated from the director's types.
public struct LiveHandlers: AgentHandlers {
    public enum Mode: String, Sendable { case installed, netboot }
    public let mode: Mode
    public let runner: any ProgramRunner
    /// Prefix of the installed system's paths ("" on a machine; a scratch directory in tests).
    public let root: String

    public init(mode: Mode, runner: any ProgramRunner = SystemRunner(), root: String = "") {
        self.mode = mode
        self.runner = runner
        self.root = root
    }

    public func handle(_ request: AgentRequest, command: Command, api: AgentAPI) async -> HandlerResult {
        do {
            switch request {
            case .reboot(let netboot):
                if netboot && mode == .installed {
                    // The one-shot entry: the next boot goes to the network, the one after back to the default.
                    // Gold's images keep the environment block on the ESP (UEFI) or in /boot/grub (BIOS).
                    let env =
                        FileManager.default.fileExists(atPath: "/boot/efi/EFI/gold/grubenv")
                        ? "/boot/efi/EFI/gold/grubenv" : "/boot/grub/grubenv"
                    let result = try await runner.run(
                        "grub-editenv", [env, "set", "next_entry=gold-netboot"], timeout: .seconds(30))
                    guard result.exitCode == 0 else {
                        return .failed("grub-editenv \(env) set next_entry=gold-netboot failed: \(result.output)")
                    }
                }
                return HandlerResult(
                    ok: true, detail: "acknowledged; rebooting" + (netboot ? " into the netboot environment" : ""),
                    rebootAfterReport: true)
            case .torture(let seconds):
                return try await torture(seconds: seconds)
            case .machineChecks:
                return try await machineChecks(api: api)
            case .collectLogs:
                return try await collectLogs()
            case .writeImage(let version):
                guard let version else { return .failed("no image version to write") }
                return try await writeImage(version: version, command: command, api: api)
            case .stopServices(let binary):
                return try await services(binary: binary, api: api, stop: true)
            case .startServices(let binary):
                return try await services(binary: binary, api: api, stop: false)
            case .installKernel(let artifact):
                return try await installKernel(key: artifact, api: api)
            case .promoteKernel(let release):
                return try await promoteKernel(release: release)
            case .removeKernel(let release):
                return try await removeKernel(release: release)
            case .replaceBinary(let name, let artifact):
                return try await replaceBinary(name: name, key: artifact, command: command, api: api)
            case .restoreBinary(let name):
                return try await restoreBinary(name: name, api: api)
            case .captureImage:
                return try await captureImage(command: command, api: api)
            }
        } catch {
            return .failed("\(error)")
        }
    }

    public func reboot() async {
        try? await Task.sleep(for: .milliseconds(500))
        if mode == .installed {
            _ = try? await runner.run("systemctl", ["reboot"], timeout: .seconds(30))
        } else {
            sync()
            _ = try? await runner.run("reboot", ["-f"], timeout: .seconds(30))
        }
    }

    /// Streams the version's manifest and the chunks that differ from the disk, verifies, and reports progress.
    ///
    /// Only a result with `ok` and `image.written` tells the director that the disk holds `version`; it is returned
    /// after every disk is written and verified. Any failure (a chunk that stays corrupt, a disk that does not
    /// verify) returns a failure that says the version was not written and names the disk and chunk.
    func writeImage(version: Int, command: Command, api: AgentAPI) async throws -> HandlerResult {
        let response = try await GoldHTTPClient.HTTPClient.send(
            "GET", "\(api.director)/images/\(api.machine)/\(version)/manifest.json",
            headers: [("Authorization", "Bearer \(api.token)")])
        guard response.status == 200 else {
            return .failed(
                "manifest of \(api.machine) version \(version): \(response.status) \(response.text.prefix(200))")
        }
        let manifest = try JSONDecoder().decode(ImageManifest.self, from: Data(response.body))
        var summary: [String] = []
        var totals = ImageWriter.Stats()
        for (number, disk) in manifest.disks.enumerated() {
            let device = disk.device ?? "/dev/vda"
            let stats: ImageWriter.Stats
            do {
                let writer = ImageWriter(
                    target: try FileBlockTarget(path: device),
                    source: HTTPChunkSource(base: api.director, token: api.token),
                    verification: .image)
                stats = try await writer.write(disk) { fraction, stats in
                    let overall = (Double(number) + fraction) / Double(manifest.disks.count)
                    await api.progress(
                        command.id, fraction: overall,
                        detail: "\(device): \(stats.fetched) chunks fetched, \(stats.unchanged) unchanged")
                }
            } catch {
                return .failed("version \(version) of \(api.machine) was not written to \(device): \(error)")
            }
            totals.fetched += stats.fetched
            totals.unchanged += stats.unchanged
            totals.bytesFetched += stats.bytesFetched
            totals.bytesWritten += stats.bytesWritten
            totals.refetched += stats.refetched
            let again =
                stats.refetchedChunks.isEmpty
                ? ""
                : "; fetched again after a corrupt or failed fetch: "
                    + stats.refetchedChunks.map { "chunk \($0) (sha256 \(disk.chunks[$0]?.hex.prefix(12) ?? "")…)" }
                    .joined(separator: ", ")
            summary.append(
                "\(device) verified (sha256 \(disk.sha256.prefix(12))…): \(stats.fetched) fetched, \(stats.unchanged) unchanged, \(stats.zeroed) zeroed, \(stats.refetched) refetched\(again)"
            )
        }
        _ = try? await runner.run("sync", [], timeout: .seconds(60))
        return HandlerResult(
            ok: true, detail: summary.joined(separator: "; "),
            outputs: [
                "image.written": "\(version)", "image.bytesFetched": "\(totals.bytesFetched)",
                "image.bytesWritten": "\(totals.bytesWritten)",
            ])
    }

    func torture(seconds: Int) async throws -> HandlerResult {
        let before = try await runner.run("dmesg", [], timeout: .seconds(10)).output
        let run = try await runner.run(
            "stress-ng", Torture.arguments(seconds: seconds), timeout: .seconds(Int64(seconds) + 120))
        let after = try await runner.run("dmesg", [], timeout: .seconds(10)).output
        let during = after.hasPrefix(before) ? String(after.dropFirst(before.count)) : after
        let report = Torture.evaluate(exitCode: run.exitCode, output: run.output, kernelLogDuring: during)
        let metrics = report.metrics.map { "\($0.stressor)=\($0.bogoOpsPerSecond)" }.joined(separator: ",")
        return HandlerResult(ok: report.passed, detail: report.summary, outputs: ["torture.metrics": metrics])
    }

    func machineChecks(api: AgentAPI) async throws -> HandlerResult {
        let spec = try await api.spec()
        var passed: [String] = []
        for check in spec.checks where check.kind == .command {
            // An argument vector, never a shell line.
            let words = check.target.split(separator: " ").map(String.init)
            guard let program = words.first else { continue }
            let result = try await runner.run(program, Array(words.dropFirst()), timeout: .seconds(120))
            guard result.exitCode == 0 else {
                let how = result.timedOut ? "was stopped after 120 s" : "exited \(result.exitCode)"
                return .failed("check '\(check.target)' \(how): \(result.output.suffix(2000))")
            }
            let said = result.output.split(whereSeparator: \.isNewline).first.map { " (\($0.prefix(120)))" } ?? ""
            passed.append(check.target + said)
        }
        return HandlerResult(
            ok: true, detail: passed.isEmpty ? "no checks on the machine" : "passed: \(passed.joined(separator: "; "))")
    }

    func collectLogs() async throws -> HandlerResult {
        var logs = ""
        if mode == .installed {
            logs += try await runner.run("journalctl", ["-b", "-1", "-n", "400", "--no-pager"], timeout: .seconds(30))
                .output
        }
        logs += try await runner.run("dmesg", [], timeout: .seconds(10)).output.split(separator: "\n").suffix(200)
            .joined(separator: "\n")
        return HandlerResult(
            ok: true, detail: "collected \(logs.utf8.count) bytes of logs",
            outputs: ["logs": String(logs.suffix(32_000))])
    }

    func services(binary: String, api: AgentAPI, stop: Bool) async throws -> HandlerResult {
        let spec = try await api.spec()
        guard let recipe = spec.binaries.first(where: { $0.name == binary }) else {
            return .failed("machine \(spec.name) has no binary '\(binary)'")
        }
        var units = recipe.services.map { $0.hasSuffix(".service") ? $0 : $0 + ".service" }
        for path in recipe.installs {
            let show = try await runner.run(
                "systemctl", ["show", "--property=Id,ExecStart", "*"], timeout: .seconds(30)
            ).output
            units += ServiceFinder.units(using: path, showOutput: show)
        }
        units = Array(Set(units)).sorted()
        if !stop {
            // An update may have replaced unit files too.
            _ = try await runner.run("systemctl", ["daemon-reload"], timeout: .seconds(120))
        }
        for unit in units {
            // restart, not start: after a restore the service may still be running the binary that was just replaced.
            let steps: [[String]] =
                stop
                ? [["stop", unit], ["mask", "--runtime", unit]] : [["unmask", "--runtime", unit], ["restart", unit]]
            for arguments in steps {
                let result = try await runner.run("systemctl", arguments, timeout: .seconds(120))
                guard result.exitCode == 0 else {
                    return .failed("systemctl \(arguments.joined(separator: " ")) failed: \(result.output)")
                }
            }
        }
        if stop {
            let still = recipe.installs.flatMap { ServiceFinder.processes(using: $0) }
            guard still.isEmpty else { return .failed("processes still run \(binary): \(still)") }
        }
        return HandlerResult(
            ok: true,
            detail: "\(stop ? "stopped and masked" : "unmasked and restarted"): \(units.joined(separator: ", "))")
    }
}

/// Chunks from the deploy server, `GET /chunks/<sha256>`.
struct HTTPChunkSource: ChunkSource {
    let base: String
    let token: String

    func chunk(_ hash: ChunkHash) async throws -> [UInt8] {
        let response = try await HTTPClient.send(
            "GET", "\(base)/chunks/\(hash.hex)", headers: [("Authorization", "Bearer \(token)")],
            timeout: .seconds(60))
        guard response.status == 200 else { throw AgentError("chunk \(hash): \(response.status)") }
        return response.body
    }
}
