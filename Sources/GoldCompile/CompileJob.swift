import Foundation
import GoldCore

/// One build the compile server runs: every machine whose inputs hash to the same key shares it.
public struct CompileJob: Hashable, Sendable, Codable, Identifiable {
    /// What is built.
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable { case kernel, binary }

    /// The job's identity is its cache key: two machines with the same inputs get the same job and one build.
    public var id: CacheKey { key }
    public var kind: Kind { inputs.kind }
    /// The machines that asked for this build, sorted.
    public var machines: [String]
    public var inputs: CompileInputs
    public var key: CacheKey

    public init(machines: [String], inputs: CompileInputs) {
        self.machines = Array(Set(machines)).sorted()
        self.inputs = inputs
        self.key = CacheKey(inputs)
    }

    /// A short name for logs: `kernel 3f2a…` or `binary hello 3f2a…`.
    public var label: String {
        switch inputs {
        case .kernel: "kernel \(key.short)"
        case .binary(let binary): "binary \(binary.name) \(key.short)"
        }
    }
}

/// Everything that decides a build's output, resolved: sources are named by content hash or commit, not by path alone.
public enum CompileInputs: Hashable, Sendable, Codable {
    case kernel(KernelInputs)
    case binary(BinaryInputs)

    public var kind: CompileJob.Kind {
        switch self {
        case .kernel: .kernel
        case .binary: .binary
        }
    }
}

/// Where a build's source comes from and the hash that identifies its content.
public struct SourceInput: Hashable, Sendable, Codable {
    /// How the source is unpacked into the build directory.
    public enum Layout: String, Hashable, Sendable, Codable {
        /// A tar archive (any compression `tar` knows); a single top-level directory is stripped.
        case tarball
        /// A directory copied as it is (`.git` left out).
        case directory
        /// A commit of a git repository, exported with `git archive`.
        case git
    }
    public var layout: Layout
    /// The tarball, directory or repository on the compile server.
    public var path: String
    /// For git, the commit the revision resolved to; otherwise nil.
    public var commit: String?
    /// `sha256:<hex>` of the tarball or of the directory's content listing, or `git:<commit>`.
    public var identity: String

    public init(layout: Layout, path: String, commit: String? = nil, identity: String) {
        self.layout = layout
        self.path = path
        self.commit = commit
        self.identity = identity
    }
}

/// A kernel build's resolved inputs.
public struct KernelInputs: Hashable, Sendable, Codable {
    /// The spec's source string as written (`debian:linux-source-6.1`).
    public var sourceName: String
    public var source: SourceInput
    /// `tinyconfig`, `defconfig`, or `file` (with `baseConfigPath` and its hash in `baseIdentity`).
    public var base: String
    public var baseConfigPath: String?
    /// `tinyconfig`/`defconfig`, or `sha256:<hex>` of the base config file.
    public var baseIdentity: String
    /// Canonical fragment lines, one per option (the last one written wins), sorted.
    public var fragments: [String]
    public var localVersion: String?
    /// `gcc --version`'s first line.
    public var toolchain: String

    public init(
        sourceName: String, source: SourceInput, base: String, baseConfigPath: String? = nil, baseIdentity: String,
        fragments: [String], localVersion: String?, toolchain: String
    ) {
        self.sourceName = sourceName
        self.source = source
        self.base = base
        self.baseConfigPath = baseConfigPath
        self.baseIdentity = baseIdentity
        self.fragments = fragments
        self.localVersion = localVersion
        self.toolchain = toolchain
    }

    /// The options the final `.config` must hold: the fragments plus `CONFIG_LOCALVERSION` when one is set.
    public var requestedOptions: [KernelFragment] {
        var options = fragments.compactMap(KernelFragment.init)
        // The validator refuses a localversion no fragment can hold; one that slipped past is left out, never a trap.
        if let localVersion, let fragment = KernelFragment("CONFIG_LOCALVERSION=\"\(localVersion)\"") {
            options.removeAll { $0.option == "CONFIG_LOCALVERSION" }
            options.append(fragment)
        }
        return options.sorted { $0.option < $1.option }
    }
}

/// A binary build's resolved inputs: the recipe and the flags it runs with.
public struct BinaryInputs: Hashable, Sendable, Codable {
    public var name: String
    public var sourceName: String
    public var source: SourceInput
    /// Shell commands run in order in the source directory.
    public var commands: [String]
    public var cc: String
    /// Includes `-march=<cpu.march>`.
    public var cflags: String
    public var march: String
    public var prefix: String
    /// `gcc --version`'s first line.
    public var toolchain: String

    public init(
        name: String, sourceName: String, source: SourceInput, commands: [String], cc: String = "gcc",
        cflags: String, march: String, prefix: String = "/usr/local", toolchain: String
    ) {
        self.name = name
        self.sourceName = sourceName
        self.source = source
        self.commands = commands
        self.cc = cc
        self.cflags = cflags
        self.march = march
        self.prefix = prefix
        self.toolchain = toolchain
    }
}
