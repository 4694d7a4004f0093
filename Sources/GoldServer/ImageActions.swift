import Foundation
import GoldAPI
import GoldCompile
import GoldCore
import GoldImage
import GoldSpawn
import GoldWorkflow
import Logging

/// Builds a machine's image version from the cached Debian base, with its agent, token and units baked in.
struct ImageActions: Sendable {
    let config: ServerConfig
    let store: any GoldStore
    /// The compile server's artifacts: the kernel and binaries the workflow's compile step named.
    let artifacts: LocalArtifactStore?
    let logger: Logger

    var imageStore: ImageStore { ImageStore(root: URL(fileURLWithPath: config.dataDir + "/images"), logger: logger) }
    var agentBinary: String { config.director.agentBinary ?? config.dataDir + "/agent/gold-agent" }
    var agentURL: String {
        config.director.agentURL ?? config.deploy.publicURL ?? "http://\(config.deploy.http)"
    }

    /// Debian bookworm with systemd, the kernel, ssh, and what the agent calls (grub-editenv, stress-ng).
    static func recipe() throws -> DebianRecipe {
        guard let mirror = DebianRecipe.hostMirror() else {
            throw GoldError(.unavailable, "no Debian mirror in this host's apt sources (/etc/apt/sources.list*)")
        }
        return DebianRecipe(packages: DebianRecipe.bootablePackages + ["grub-common", "stress-ng"], mirror: mirror)
    }

    func build(_ machine: MachineRecord, change: ImageChange, description: String, context: [String: String] = [:])
        async -> WorkflowEvent.Outcome
    {
        do {
            guard FileManager.default.isExecutableFile(atPath: agentBinary) else {
                return .failed(
                    reason:
                        "no gold-agent for images at \(agentBinary): build it with scripts/build-agent.sh and set director.agent_binary"
                )
            }
            // The installed agent's own token, bound to this machine; derived from the director's key, so every version of
            // the machine's image carries the same one (and `gold image diff` shows only real changes).
            let secret = TokenSecret.derived(key: try await store.directorKey(), purpose: "image-agent:\(machine.name)")
            if let existing = try await store.token(hash: secret.hash) {
                guard existing.revokedAt == nil else {
                    return .failed(
                        reason:
                            "the agent token of \(machine.name)'s images (\(existing.id)) was revoked; images would carry a dead token"
                    )
                }
            } else {
                try await store.insertToken(
                    TokenRecord(
                        id: TokenSecret.newID(), hash: secret.hash, role: .agent, machine: machine.name,
                        label: "agent \(machine.name) (image)", createdAt: Date()), actor: "image builder")
            }
            let request = ImageBuildRequest(
                machine: machine.spec, base: .debian(try Self.recipe()), kernel: try await kernelInput(context),
                binaries: try binaryFiles(context),
                agent: AgentHook(
                    files: agentFiles(machine.name, token: secret.value),
                    enable: ["gold-agent.service", "gold-boot-success.service"]))
            // Base root filesystems are a cache shared by every data directory on this host.
            let builder = ImageBuilder(
                dataDirectory: URL(fileURLWithPath: "/var/cache/gold/image-build"), logger: logger)
            // One base build per recipe at a time: machines provisioned together wait for the first to cache it.
            let recipe = try Self.recipe()
            _ = try await BaseBuilds.shared.run { try await builder.baseTarball(for: recipe) }
            let store = imageStore
            let parent = try store.currentVersion(machine: machine.name)
            let stats = try await builder.buildAndImport(request, into: store, change: change, description: description)
            try store.setCurrent(machine: machine.name, version: stats.version)
            _ = parent
            return .succeeded(
                detail:
                    "version \(stats.version): \(stats.newChunks) new of \(stats.totalChunks) chunks (\(stats.newBytes >> 20) MiB new)",
                outputs: [ContextKey.imageVersion: "\(stats.version)"])
        } catch {
            return .failed(reason: "image build for \(machine.name) failed: \(error)")
        }
    }

    /// The compiled kernel as the image builder takes it: `vmlinuz-RELEASE` and `lib/modules/RELEASE`, unpacked once
    /// per artifact beside the store.
    func kernelInput(_ context: [String: String]) async throws -> KernelInput? {
        guard let key = context["kernel.artifact"] else { return nil }
        guard let artifacts, let manifest = try artifacts.manifest(for: CacheKey(hex: key)) else {
            throw GoldError(
                .notFound, "kernel artifact \(key.prefix(12)) is not in the artifact store", at: "kernel.artifact")
        }
        guard let release = manifest.metadata.kernel?.release, let image = manifest.file("bzImage") else {
            throw GoldError(.invalidInput, "artifact \(key.prefix(12)) is not a kernel", at: "kernel.artifact")
        }
        let dir = "\(artifacts.root)/unpacked/\(key)"
        if !FileManager.default.fileExists(atPath: dir + "/.complete") {
            try? FileManager.default.removeItem(atPath: dir)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                atPath: artifacts.blobPath(image.sha256), toPath: "\(dir)/vmlinuz-\(release)")
            if let modules = manifest.file("modules.tar") {
                let result = try await Spawn.run(
                    "tar", ["-xf", artifacts.blobPath(modules.sha256), "-C", dir], timeout: .seconds(600))
                guard result.exitCode == 0 else {
                    throw GoldError(.unavailable, "unpacking modules of \(release) failed: \(result.output)")
                }
            }
            guard FileManager.default.createFile(atPath: dir + "/.complete", contents: Data()) else {
                throw GoldError(.io, "cannot mark the unpacked kernel complete", at: dir + "/.complete")
            }
        }
        return KernelInput(directory: URL(fileURLWithPath: dir))
    }

    /// The compiled binaries' files, straight from the artifact store's blobs.
    func binaryFiles(_ context: [String: String]) throws -> [ImageFile] {
        var files: [ImageFile] = []
        for (name, key) in context.sorted(by: { $0.key < $1.key })
        where name.hasPrefix("binary.") && name.hasSuffix(".artifact") {
            guard let artifacts, let manifest = try artifacts.manifest(for: CacheKey(hex: key)),
                let outputs = manifest.metadata.binary?.outputs
            else {
                throw GoldError(.notFound, "binary artifact \(key.prefix(12)) is not in the artifact store", at: name)
            }
            for output in outputs {
                files.append(
                    ImageFile(
                        path: output.path, mode: output.mode,
                        source: .file(URL(fileURLWithPath: artifacts.blobPath(output.sha256)))))
            }
        }
        return files
    }

    func agentFiles(_ machine: String, token: String) -> [ImageFile] {
        let env = "GOLD_DIRECTOR=\(agentURL)\nGOLD_MACHINE=\(machine)\n"
        let run = """
            [Unit]
            Description=Gold agent: runs the director's commands for this machine
            After=network-online.target
            Wants=network-online.target

            [Service]
            EnvironmentFile=/etc/gold/agent.env
            ExecStart=/usr/local/sbin/gold-agent run --token-file /etc/gold/agent.token
            Restart=always
            RestartSec=3

            [Install]
            WantedBy=multi-user.target

            """
        let success = """
            [Unit]
            Description=Gold agent: report that this boot made it through
            After=multi-user.target network-online.target boot-complete.target
            Wants=network-online.target boot-complete.target

            [Service]
            Type=oneshot
            EnvironmentFile=/etc/gold/agent.env
            ExecStart=/usr/local/sbin/gold-agent boot-success --token-file /etc/gold/agent.token

            [Install]
            WantedBy=multi-user.target

            """
        return [
            ImageFile(
                path: "/usr/local/sbin/gold-agent", mode: 0o755, source: .file(URL(fileURLWithPath: agentBinary))),
            ImageFile(path: "/etc/gold/agent.token", mode: 0o600, source: .bytes(Data((token + "\n").utf8))),
            ImageFile(path: "/etc/gold/agent.env", mode: 0o644, source: .bytes(Data(env.utf8))),
            ImageFile(path: "/etc/systemd/system/gold-agent.service", mode: 0o644, source: .bytes(Data(run.utf8))),
            ImageFile(
                path: "/etc/systemd/system/gold-boot-success.service", mode: 0o644, source: .bytes(Data(success.utf8))),
        ]
    }
}

/// Serialises base root filesystem builds in this process.
actor BaseBuilds {
    static let shared = BaseBuilds()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if busy { await withCheckedContinuation { waiting.append($0) } } else { busy = true }
        defer { if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() } }
        return try await body()
    }
}
