import Crypto
import Foundation
import GoldCore
import GoldSpawn
import Logging

#if canImport(Glibc)
    import Glibc
#endif

extension ImageBuilder {
    /// Formats ext4 partition `p` of `image` with its base tree and sets every inode's times to SOURCE_DATE_EPOCH,
    /// or copies the same bytes from the base-layer cache when the tree and parameters are the ones it holds.
    ///
    /// The base layer is byte-identical for every machine and version with the same base and layout (the
    /// machine's own files are appended afterwards, see ``OverlayLog``), so after the first build of a layout
    /// this is a sparse copy instead of `mkfs.ext4 -d`.
    func formatBaseLayer(
        _ p: PlannedPartition, disk: Int, tree: URL?, image: URL, files: FileManifest, request: ImageBuildRequest,
        work: URL, report: (String) -> Void, context: String
    ) async throws {
        let env = environment(request)
        // 4 KiB blocks always (mke2fs picks 1 KiB for small filesystems, whose 8 MiB block groups put a backup
        // superblock, and its changing free counts, in many more chunks).
        // metadata_csum seeds every metadata checksum (directory blocks, extent blocks, inodes) with the UUID,
        // which would make each machine's metadata unique. With metadata_csum_seed the seed is kept in the
        // superblock: format with a UUID shared by every machine (same disk and partition number), then give the
        // machine its own UUID with tune2fs, which then rewrites only the superblocks.
        let shared = DeterministicID.uuid(machine: "", disk: disk, partition: p.number, purpose: "ext4-shared")
        let extended = "hash_seed=\(shared),root_owner=0:0,nodiscard"
        var args = ["-q", "-F", "-t", "ext4", "-b", "4096", "-O", "metadata_csum_seed", "-U", shared]
        if let label = p.label { args += ["-L", label] }
        let size = "\(p.size / 1024)k"
        var key: String?
        if baseLayers != nil {
            key = await baseLayerKey(
                tree: tree, files: files, mount: p.mount,
                parameters: args + ["-E", extended, size, "epoch=\(request.sourceDateEpoch)"], environment: env,
                context: context)
        }
        if let cache = baseLayers, let key, let entry = cache.open(key, size: p.size) {
            defer { close(entry.fd) }
            report("partition \(p.number) ext4 base layer (cached)")
            let used = try cache.restore(entry, size: p.size, into: image, at: p.offset) { problem in
                logger.warning("base layer cache", metadata: ["problem": "\(problem)", "partition": "\(context)"])
            }
            if used { return }
        }
        report("partition \(p.number) ext4 base layer (mkfs.ext4 -d)")
        args += ["-E", "offset=\(p.offset),\(extended)"]
        if let tree { args += ["-d", tree.path] }
        try await runner.check("mkfs.ext4", args + [image.path, size], environment: env, context: context)
        try await clampInodeTimes(
            image: image, offset: p.offset, epoch: request.sourceDateEpoch, work: work, environment: env,
            context: context)
        if let cache = baseLayers, let key, let error = cache.store(key, image: image, offset: p.offset, size: p.size) {
            logger.warning("base layer not cached", metadata: ["error": "\(error)", "partition": "\(context)"])
        }
    }

    /// The cache key of a base layer, or nil (logged) when it cannot be computed: the build then formats.
    func baseLayerKey(
        tree: URL?, files: FileManifest, mount: String?, parameters: [String], environment: [String: String],
        context: String
    ) async -> String? {
        do {
            return try BaseLayerKey.compute(
                tree: tree, contentHashes: Self.contentHashes(files, mount: mount),
                parameters: parameters + (try await e2fsprogsIdentity(environment, context: context)))
        } catch {
            logger.warning("base layer key not computed", metadata: ["error": "\(error)", "partition": "\(context)"])
            return nil
        }
    }

    /// Content hashes of the file list's regular files under `mount`, by their path inside that filesystem.
    static func contentHashes(_ files: FileManifest, mount: String?) -> [String: String] {
        guard let mount else { return [:] }
        var out: [String: String] = [:]
        for entry in files.entries where entry.kind == .file {
            guard let sha = entry.sha256 else { continue }
            if mount == "/" {
                out[entry.path] = sha
            } else if entry.path.hasPrefix(mount + "/") {
                out[String(entry.path.dropFirst(mount.count))] = sha
            }
        }
        return out
    }

    /// What else decides the layer's bytes: the versions of the programs that write it (mkfs.ext4, and debugfs for
    /// the time clamp), mke2fs's configuration file and the environment variables e2fsprogs reads.
    func e2fsprogsIdentity(_ environment: [String: String], context: String) async throws -> [String] {
        var out: [String] = []
        for program in ["mkfs.ext4", "debugfs"] {
            let version = try await runner.check(program, ["-V"], environment: environment, context: context)
            out.append(
                "\(program)=" + (version.stderr + version.stdout).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let config = merged["MKE2FS_CONFIG"] ?? "/etc/mke2fs.conf"
        let configHash = FileManager.default.contents(atPath: config).map { SHA256.hash(data: $0).hexString } ?? "none"
        out.append("config=\(config):\(configHash)")
        for (name, value) in merged.sorted(by: { $0.key < $1.key })
        where name.hasPrefix("MKE2FS_") || name.hasPrefix("E2FSPROGS_") {
            out.append("env \(name)=\(value)")
        }
        return out
    }
}
