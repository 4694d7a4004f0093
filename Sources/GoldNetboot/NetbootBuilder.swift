import Crypto
import Foundation
import GoldSpawn
import Logging

/// Builds the netboot environment every Gold workflow boots machines into: Debian's kernel and an initramfs
/// with busybox, `gold-agent`, the kernel modules for QEMU and common hardware, and the workflows' tools.
/// Runs as an ordinary user: device nodes are written into the archive, never created on the host.
public struct NetbootBuilder: Sendable {
    /// Modules `/init` loads: virtio and Intel NICs, virtio/SCSI/AHCI disks, ext4 (with the crc32c its softdep
    /// names), and vfat for an ESP. Dependencies come from `modules.dep`; built-in ones (af_packet) are skipped.
    public static let defaultModules = [
        "virtio_pci", "virtio_net", "virtio_blk", "virtio_scsi", "e1000", "e1000e", "af_packet",
        "crc32c_generic", "crc32c_intel", "crct10dif_generic", "crc64_rocksoft_generic",
        "jbd2", "mbcache", "crc16", "ext4", "fat", "vfat", "nls_cp437", "nls_ascii",
        "sd_mod", "libata", "libahci", "ahci",
    ]

    public var kernelDir: String
    public var agentBinary: String
    public var outputDir: String
    /// Which `boot/vmlinuz-VERSION` to use; nil picks the only (or newest) one.
    public var kernelVersion: String?
    public var busybox: String
    public var tools: [HostTool]
    public var modules: [String]
    public var compression: NetbootCompression
    /// The mtime of every archive entry (SOURCE_DATE_EPOCH).
    public var sourceDateEpoch: UInt32
    /// Strip the agent's debug information (a debug build halves).
    public var stripAgent: Bool
    public var runner: any ProgramRunner
    public var logger: Logger
    public var progress: (@Sendable (NetbootProgress) -> Void)?

    public init(
        kernelDir: String = "/var/cache/gold/kernel", agentBinary: String, outputDir: String,
        kernelVersion: String? = nil,
        busybox: String = "/bin/busybox", tools: [HostTool] = HostTool.workflowTools,
        modules: [String] = NetbootBuilder.defaultModules,
        compression: NetbootCompression = .gzip, sourceDateEpoch: UInt32? = nil, stripAgent: Bool = true,
        runner: any ProgramRunner = SystemRunner(), logger: Logger = Logger(label: "gold.netboot"),
        progress: (@Sendable (NetbootProgress) -> Void)? = nil
    ) {
        self.kernelDir = kernelDir
        self.agentBinary = agentBinary
        self.outputDir = outputDir
        self.kernelVersion = kernelVersion
        self.busybox = busybox
        self.tools = tools
        self.modules = modules
        self.compression = compression
        self.sourceDateEpoch =
            sourceDateEpoch ?? ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap { UInt32($0) } ?? 0
        self.stripAgent = stripAgent
        self.runner = runner
        self.logger = logger
        self.progress = progress
    }

    /// Builds (or reuses) the kernel and initramfs in `outputDir`, named `vmlinuz-SHA256` and `initrd-SHA256.cpio.gz`.
    public func build() async throws -> NetbootArtifacts {
        let fm = FileManager.default
        try? fm.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
        let work = outputDir + "/.work-\(UUID().uuidString)"
        do { try fm.createDirectory(atPath: work, withIntermediateDirectories: true) } catch {
            throw NetbootError(.io, "cannot create \(work): \(error.localizedDescription)")
        }
        defer { try? fm.removeItem(atPath: work) }

        let kernel = try findKernel()
        report(.step("kernel \(kernel.version): \(kernel.path)"))
        let contents = try await collect(kernelVersion: kernel.version, work: work)
        let entries = contents.tree.sortedEntries
        let key = try cacheKey(entries)
        let manifestPath = "\(outputDir)/netboot-\(key).json"
        if var cached = try? JSONDecoder().decode(
            NetbootArtifacts.self, from: Data(contentsOf: URL(fileURLWithPath: manifestPath))),
            Self.fileSize(cached.initrdPath) == cached.initrdSize, Self.fileSize(cached.kernelPath) == cached.kernelSize
        {
            cached.cached = true
            logger.info("netboot environment unchanged", metadata: ["initrd": "\(cached.initrdPath)"])
            report(.finished(cached))
            return cached
        }

        let cpioPath = work + "/initrd.cpio"
        let total = try archive(entries, to: cpioPath)
        report(.step("compressing \(total) bytes with \(compression.rawValue)"))
        let compressed = work + "/initrd." + compression.fileExtension
        try await compress(cpioPath, to: compressed)
        let initrd = try Digest.sha256(ofFile: compressed)
        let initrdPath = "\(outputDir)/initrd-\(initrd.hex).\(compression.fileExtension)"
        try Self.moveIntoPlace(compressed, initrdPath)

        let kernelDigest = try Digest.sha256(ofFile: kernel.path)
        let kernelPath = "\(outputDir)/vmlinuz-\(kernelDigest.hex)"
        if Self.fileSize(kernelPath) != kernelDigest.size {
            let copy = work + "/vmlinuz"
            do { try fm.copyItem(atPath: kernel.path, toPath: copy) } catch {
                throw NetbootError(.io, "cannot copy \(kernel.path): \(error.localizedDescription)")
            }
            try Self.moveIntoPlace(copy, kernelPath)
        }
        let artifacts = NetbootArtifacts(
            kernelVersion: kernel.version, kernelPath: kernelPath, kernelSHA256: kernelDigest.hex,
            kernelSize: kernelDigest.size,
            initrdPath: initrdPath, initrdSHA256: initrd.hex, initrdSize: initrd.size, archiveSize: total,
            modules: contents.modules, cached: false)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let manifestTemp = work + "/manifest.json"
        try encoder.encode(artifacts).write(to: URL(fileURLWithPath: manifestTemp))
        try Self.moveIntoPlace(manifestTemp, manifestPath)
        logger.info("netboot environment built", metadata: ["initrd": "\(initrdPath)", "bytes": "\(initrd.size)"])
        report(.finished(artifacts))
        return artifacts
    }

    func report(_ event: NetbootProgress) {
        if case .step(let text) = event { logger.debug("\(text)") }
        progress?(event)
    }

    /// `boot/vmlinuz-VERSION` with a matching `lib/modules/VERSION`.
    func findKernel() throws -> (version: String, path: String) {
        let boot = kernelDir + "/boot"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: boot)) ?? [])
            .filter { $0.hasPrefix("vmlinuz-") }.map { String($0.dropFirst("vmlinuz-".count)) }
            .sorted { $0.compare($1, options: .numeric) == .orderedAscending }
        guard let version = kernelVersion ?? versions.last else {
            throw NetbootError(
                .missingInput,
                "no vmlinuz-* in \(boot): run scripts/setup.sh (it unpacks Debian's linux-image package there)")
        }
        let path = "\(boot)/vmlinuz-\(version)"
        guard FileManager.default.fileExists(atPath: path) else {
            throw NetbootError(.missingInput, "no kernel \(path)")
        }
        guard FileManager.default.fileExists(atPath: "\(kernelDir)/lib/modules/\(version)/kernel") else {
            throw NetbootError(.missingInput, "no modules for \(version) in \(kernelDir)/lib/modules/\(version)")
        }
        return (version, path)
    }

    /// The archive's identity: every entry's path, kind, permissions and content hash, plus the build options.
    func cacheKey(_ entries: [ArchiveEntry]) throws -> String {
        var hasher = SHA256()
        func add(_ text: String) { hasher.update(data: Data((text + "\n").utf8)) }
        add("gold-netboot 1 \(compression.rawValue) \(sourceDateEpoch)")
        for entry in entries {
            switch entry.kind {
            case .directory: add("d \(entry.path) \(entry.permissions)")
            case .symlink(let target): add("l \(entry.path) \(target)")
            case .characterDevice(let major, let minor): add("c \(entry.path) \(major) \(minor) \(entry.permissions)")
            case .data(let bytes): add("f \(entry.path) \(entry.permissions) \(Digest.hex(SHA256.hash(data: bytes)))")
            case .hostFile(let path): add("f \(entry.path) \(entry.permissions) \(try Digest.sha256(ofFile: path).hex)")
            }
        }
        return Digest.hex(hasher.finalize())
    }

    /// Writes the entries as a newc archive; returns its size.
    func archive(_ entries: [ArchiveEntry], to path: String) throws -> UInt64 {
        let total = entries.reduce(UInt64(0)) { sum, entry in
            if case .hostFile(let source) = entry.kind { return sum + (Self.fileSize(source) ?? 0) }
            return sum
        }
        report(.step("archiving \(entries.count) entries"))
        let sink = try FileSink(path: path)
        var writer = CPIOWriter(sink: sink, mtime: sourceDateEpoch)
        var written: UInt64 = 0
        var reported: UInt64 = 0
        for entry in entries {
            try writer.append(entry)
            if case .hostFile(let source) = entry.kind { written += Self.fileSize(source) ?? 0 }
            if written - reported >= 16 << 20 {
                reported = written
                report(.archiving(written: written, total: total))
            }
        }
        try writer.finish().close()
        report(.archiving(written: total, total: total))
        return Self.fileSize(path) ?? 0
    }

    func compress(_ input: String, to output: String) async throws {
        let result: InvocationResult
        switch compression {
        case .gzip:
            // -n: no name or timestamp in the header, so the same archive gives the same bytes.
            result = try await run(
                try tool("gzip", package: "gzip"), ["-n", "-6", "-c"], input: .file(input),
                output: .standardOutputTo(output))
        case .zstd:
            result = try await run(
                try tool("zstd", package: "zstd"), ["-q", "-12", "-T1", "-c"], input: .file(input),
                output: .standardOutputTo(output))
        }
        guard result.exitCode == 0 else {
            throw NetbootError(.toolFailed, "\(compression.rawValue) failed: \(result.stderr)")
        }
    }

    /// Runs a build-host tool in the C locale (its messages are matched), for at most 10 minutes.
    func run(
        _ path: String, _ arguments: [String], input: Invocation.Input = .none, output: Invocation.Output = .separate
    )
        async throws -> InvocationResult
    {
        do {
            return try await runner.run(
                Invocation(
                    path, arguments, environment: .inherited(adding: ["LC_ALL": "C"]), input: input, output: output,
                    timeout: .seconds(600)))
        } catch let failure as SpawnError {
            throw NetbootError(.missingTool, failure.description)
        }
    }

    /// A build-host tool's path, or an error naming the Debian package to install.
    func tool(_ name: String, package: String) throws -> String {
        guard let path = runner.locate(name) else {
            throw NetbootError(.missingTool, "\(name) is not installed on the build host: apt-get install \(package)")
        }
        return path
    }

    static func fileSize(_ path: String) -> UInt64? {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value
    }

    /// Atomic within one file system: readers never see half a file.
    static func moveIntoPlace(_ source: String, _ destination: String) throws {
        guard rename(source, destination) == 0 else {
            throw NetbootError(.io, "cannot move \(source) to \(destination): errno \(errno)")
        }
    }
}
