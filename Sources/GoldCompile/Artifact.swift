import Foundation

/// One file of an artifact, stored by content.
public struct ArtifactFile: Hashable, Sendable, Codable {
    /// `bzImage`, `System.map`, `config`, `modules.tar`, `build.log`, `metadata.json`, or for binaries the
    /// installed path relative to `/` (`usr/local/bin/hello`).
    public var name: String
    public var sha256: String
    public var size: UInt64
    /// Permission bits the file is installed with.
    public var mode: UInt16

    public init(name: String, sha256: String, size: UInt64, mode: UInt16) {
        self.name = name
        self.sha256 = sha256
        self.size = size
        self.mode = mode
    }
}

/// A file a worker hands to the store.
public struct ArtifactUpload: Hashable, Sendable {
    public var name: String
    /// The file on the worker.
    public var path: String
    public var mode: UInt16

    public init(name: String, path: String, mode: UInt16 = 0o644) {
        self.name = name
        self.path = path
        self.mode = mode
    }
}

/// The result of one build: what went in, what came out, and how long it took.
public struct ArtifactMetadata: Hashable, Sendable, Codable {
    public var key: CacheKey
    public var kind: CompileJob.Kind
    public var inputs: CompileInputs
    /// The machines of the job that built it (later machines reuse it without appearing here).
    public var machines: [String]
    public var worker: String
    public var kernel: KernelBuild?
    public var binary: BinaryBuild?
    /// Seconds per step (`unpack`, `config`, `build`, `modules`, `install`, `publish`, `total`).
    public var durations: [String: Double]

    public init(
        key: CacheKey, kind: CompileJob.Kind, inputs: CompileInputs, machines: [String], worker: String,
        kernel: KernelBuild? = nil, binary: BinaryBuild? = nil, durations: [String: Double] = [:]
    ) {
        self.key = key
        self.kind = kind
        self.inputs = inputs
        self.machines = machines
        self.worker = worker
        self.kernel = kernel
        self.binary = binary
        self.durations = durations
    }

    /// What a kernel build produced.
    public struct KernelBuild: Hashable, Sendable, Codable {
        /// `make kernelrelease`, e.g. `6.1.158-gold-lab`.
        public var release: String
        /// SHA-256 of the final `.config`.
        public var configSHA256: String
        /// Every requested option, found as requested in the final `.config`.
        public var optionsVerified: [String]
        /// False when the config has `CONFIG_MODULES` off (no modules tarball).
        public var modules: Bool

        public init(release: String, configSHA256: String, optionsVerified: [String], modules: Bool) {
            self.release = release
            self.configSHA256 = configSHA256
            self.optionsVerified = optionsVerified
            self.modules = modules
        }
    }

    /// What a binary build produced.
    public struct BinaryBuild: Hashable, Sendable, Codable {
        public var cc: String
        public var cflags: String
        public var prefix: String
        /// Files installed under `DESTDIR`, by absolute path on the machine.
        public var outputs: [Output]

        public init(cc: String, cflags: String, prefix: String, outputs: [Output]) {
            self.cc = cc
            self.cflags = cflags
            self.prefix = prefix
            self.outputs = outputs
        }

        public struct Output: Hashable, Sendable, Codable {
            public var path: String
            public var mode: UInt16
            public var sha256: String
            public var size: UInt64

            public init(path: String, mode: UInt16, sha256: String, size: UInt64) {
                self.path = path
                self.mode = mode
                self.sha256 = sha256
                self.size = size
            }
        }
    }
}

/// A published artifact: its key, files by content hash, and the build's metadata.
public struct ArtifactManifest: Hashable, Sendable, Codable {
    public var key: CacheKey
    public var files: [ArtifactFile]
    public var metadata: ArtifactMetadata

    public init(key: CacheKey, files: [ArtifactFile], metadata: ArtifactMetadata) {
        self.key = key
        self.files = files.sorted { $0.name < $1.name }
        self.metadata = metadata
    }

    public func file(_ name: String) -> ArtifactFile? { files.first { $0.name == name } }
}

/// Where workers publish artifacts and look for one before building. Files are content-addressed by SHA-256;
/// an artifact becomes visible only when all its files are stored (the manifest is written last).
public protocol ArtifactStore: Sendable {
    /// The artifact for `key`, or nil.
    func manifest(for key: CacheKey) async throws -> ArtifactManifest?
    /// Stores the files, then the manifest; if `key` is already published, returns that artifact unchanged.
    func publish(key: CacheKey, files: [ArtifactUpload], metadata: ArtifactMetadata) async throws -> ArtifactManifest
    /// Copies a stored file (by its SHA-256) to `destination`.
    func fetch(sha256: String, to destination: String) async throws
}
