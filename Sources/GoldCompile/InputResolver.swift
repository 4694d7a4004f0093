import Foundation
import GoldCore
import GoldSpawn

/// Turns a machine's kernel and binary specs into resolved inputs: sources hashed, git revisions resolved to
/// commits, base configs hashed, fragments canonical, the toolchain named. Reads files and runs `gcc`/`git`.
public struct InputResolver: Sendable {
    public var runner: any ProgramRunner
    /// Where `debian:linux-source-X` finds `linux-source-X.tar.xz` (package linux-source-X).
    public var debianSourceDirectory: String
    /// Where `base: debian` finds Debian's `config-*` (scripts/setup.sh unpacks linux-image-amd64 there).
    public var debianConfigDirectory: String
    /// CFLAGS before `-march=`.
    public var baseCFlags: String
    public var prefix: String
    public var cc: String

    public init(
        runner: any ProgramRunner = SystemRunner(), debianSourceDirectory: String = "/usr/src",
        debianConfigDirectory: String = "/var/cache/gold/kernel/boot", baseCFlags: String = "-O2",
        prefix: String = "/usr/local", cc: String = "gcc"
    ) {
        self.runner = runner
        self.debianSourceDirectory = debianSourceDirectory
        self.debianConfigDirectory = debianConfigDirectory
        self.baseCFlags = baseCFlags
        self.prefix = prefix
        self.cc = cc
    }

    /// The jobs for a set of machines: one per distinct key, listing every machine that needs it.
    public func jobs(for machines: [MachineSpec]) async throws -> [CompileJob] {
        var byKey: [CacheKey: CompileJob] = [:]
        func add(_ machine: String, _ inputs: CompileInputs) {
            let job = CompileJob(machines: [machine], inputs: inputs)
            if var existing = byKey[job.key] {
                existing.machines = Array(Set(existing.machines + [machine])).sorted()
                byKey[job.key] = existing
            } else {
                byKey[job.key] = job
            }
        }
        for machine in machines {
            if let kernel = machine.kernel, !kernel.source.hasPrefix("package:") {
                add(machine.name, .kernel(try await resolve(kernel, machine: machine.name)))
            }
            for binary in machine.binaries {
                add(machine.name, .binary(try await resolve(binary, cpu: machine.cpu, machine: machine.name)))
            }
        }
        return byKey.values.sorted { ($0.kind.rawValue, $0.key) < ($1.kind.rawValue, $1.key) }
    }

    public func resolve(_ spec: KernelSpec, machine: String) async throws -> KernelInputs {
        let source: SourceInput
        if spec.source.hasPrefix("debian:") {
            let package = String(spec.source.dropFirst("debian:".count))
            let tarball = "\(debianSourceDirectory)/\(package).tar.xz"
            guard FileManager.default.fileExists(atPath: tarball) else {
                throw CompileError(
                    .missingInput,
                    "\(machine): kernel.source \(spec.source) needs \(tarball): apt-get install \(package)")
            }
            source = SourceInput(
                layout: .tarball, path: tarball, identity: "sha256:" + (try Hashing.sha256(file: tarball)))
        } else if spec.source.hasPrefix("package:") {
            throw CompileError(
                .badInput, "\(machine): kernel.source \(spec.source) is Debian's build and is installed, not compiled")
        } else {
            source = try await resolveSource(spec.source, field: "\(machine): kernel.source")
        }

        var base = spec.base
        var basePath: String?
        var baseIdentity = spec.base
        switch spec.base {
        case "tinyconfig", "defconfig": break
        case "debian":
            let configs = ((try? FileManager.default.contentsOfDirectory(atPath: debianConfigDirectory)) ?? [])
                .filter { $0.hasPrefix("config-") }.sorted()
            guard let config = configs.last else {
                throw CompileError(
                    .missingInput,
                    "\(machine): kernel.base debian needs \(debianConfigDirectory)/config-*: run scripts/setup.sh")
            }
            base = "file"
            basePath = "\(debianConfigDirectory)/\(config)"
        default:
            guard spec.base.hasPrefix("/") else {
                throw CompileError(
                    .badInput,
                    "\(machine): kernel.base '\(spec.base)' must be tinyconfig, defconfig, debian or an absolute path")
            }
            base = "file"
            basePath = spec.base
        }
        if let basePath { baseIdentity = "sha256:" + (try Hashing.sha256(file: basePath)) }

        return KernelInputs(
            sourceName: spec.source, source: source, base: base, baseConfigPath: basePath, baseIdentity: baseIdentity,
            fragments: try Self.canonicalFragments(spec.fragments, machine: machine), localVersion: spec.localVersion,
            toolchain: try await toolchain())
    }

    public func resolve(_ spec: BinarySpec, cpu: CPUSpec, machine: String) async throws -> BinaryInputs {
        guard cpu.march != "native", !cpu.march.isEmpty, !cpu.march.contains(" ") else {
            throw CompileError(.badInput, "\(machine): cpu.march '\(cpu.march)' must be \(CPUSpec.marchPattern)")
        }
        let source = try await resolveSource(spec.source, field: "\(machine): binaries.\(spec.name).source")
        return BinaryInputs(
            name: spec.name, sourceName: spec.source, source: source, commands: spec.build, cc: cc,
            cflags: "\(baseCFlags) -march=\(cpu.march)", march: cpu.march, prefix: prefix,
            toolchain: try await toolchain())
    }

    /// One line per option, the last one written winning (as merge_config.sh does), sorted by option name.
    public static func canonicalFragments(_ lines: [String], machine: String) throws -> [String] {
        var byOption: [String: KernelFragment] = [:]
        for line in lines {
            guard let fragment = KernelFragment(line) else {
                throw CompileError(
                    .badInput,
                    "\(machine): kernel fragment '\(line)' is not CONFIG_NAME=value or '# CONFIG_NAME is not set'")
            }
            byOption[fragment.option] = fragment
        }
        return byOption.keys.sorted().map { KernelConfig.line(byOption[$0]!) }
    }

    func resolveSource(_ text: String, field: String) async throws -> SourceInput {
        if text.hasPrefix("tarball:") {
            let path = String(text.dropFirst("tarball:".count))
            guard FileManager.default.fileExists(atPath: path) else {
                throw CompileError(.missingInput, "\(field): no tarball at \(path)")
            }
            return SourceInput(layout: .tarball, path: path, identity: "sha256:" + (try Hashing.sha256(file: path)))
        }
        if text.hasPrefix("dir:") {
            let path = String(text.dropFirst("dir:".count))
            return SourceInput(
                layout: .directory, path: path, identity: "sha256:" + (try Hashing.sha256(directory: path)))
        }
        if text.hasPrefix("git:") {
            let rest = text.dropFirst("git:".count)
            guard let at = rest.lastIndex(of: "@") else {
                throw CompileError(.badInput, "\(field): '\(text)' must be git:/path@revision")
            }
            let path = String(rest[..<at])
            let revision = String(rest[rest.index(after: at)...])
            guard let git = runner.locate("git") else {
                throw CompileError(.missingTool, "git is not installed: apt-get install git")
            }
            let result = try await runner.run(
                .build([git, "-C", path, "rev-parse", "--verify", "\(revision)^{commit}"], in: "/"))
            let commit = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
            guard result.exitCode == 0, commit.count == 40 else {
                throw CompileError(
                    .missingInput, "\(field): \(path) has no commit \(revision): \(result.output.prefix(200))")
            }
            return SourceInput(layout: .git, path: path, commit: commit, identity: "git:" + commit)
        }
        throw CompileError(.badInput, "\(field): '\(text)' must start with dir:, tarball: or git:")
    }

    /// `gcc --version`'s first line: a compiler upgrade changes every key.
    public func toolchain() async throws -> String {
        guard let path = runner.locate(cc) else {
            throw CompileError(.missingTool, "\(cc) is not installed: apt-get install build-essential")
        }
        let result = try await runner.run(.build([path, "--version"], in: "/"))
        guard result.exitCode == 0, let first = result.output.split(separator: "\n").first else {
            throw CompileError(.toolFailed, "\(cc) --version failed: \(result.output.prefix(200))")
        }
        return String(first)
    }
}
