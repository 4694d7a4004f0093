import Foundation
import GoldCore
import GoldSpawn
import Logging

/// Builds a machine's disk images from a base root filesystem without mounting anything:
/// stage a copy of the base, apply kernel, binaries and per-machine configuration, then assemble GPT disks with
/// `sfdisk`, `mkfs.ext4 -d`, `mkfs.vfat` + `mcopy` and GRUB images made by `grub-mkimage`.
public struct ImageBuilder: Sendable {
    /// Holds `bases/` (cached base tarballs) and `work/` (one directory per build).
    public let dataDirectory: URL
    let runner: any ProgramRunner
    let logger: Logger
    /// Formatted ext4 base layers under `base-layers/`, reused by every build with the same base and layout.
    let baseLayers: BaseLayerCache?
    /// Unpacked base tarballs under `base-trees/`, hard-linked into each build's stage instead of unpacking it.
    let baseTrees: BaseTreeCache?

    public typealias Progress = @Sendable (ImageBuildProgress) -> Void

    /// `cachesBaseLayers: false` formats every partition from scratch, `cachesBaseTrees: false` unpacks a base
    /// tarball for every build (same bytes either way, slower).
    public init(
        dataDirectory: URL, runner: any ProgramRunner = SystemRunner(),
        logger: Logger = Logger(label: "gold.image.builder"), cachesBaseLayers: Bool = true,
        cachesBaseTrees: Bool = true
    ) {
        self.dataDirectory = dataDirectory
        self.runner = runner
        self.logger = logger
        self.baseLayers =
            cachesBaseLayers ? BaseLayerCache(directory: dataDirectory.appendingPathComponent("base-layers")) : nil
        self.baseTrees =
            cachesBaseTrees ? BaseTreeCache(directory: dataDirectory.appendingPathComponent("base-trees")) : nil
    }

    /// The directories every image has as mount points (the seed's root hierarchy).
    public static let rootHierarchy = [
        "root", "bin", "dev", "proc", "sys", "usr", "home", "boot", "tmp", "var", "run", "mnt", "etc",
    ]

    /// Builds the images; the result's work directory holds them until ``discard(_:)``.
    /// On failure nothing is left behind.
    public func build(_ request: ImageBuildRequest, progress: Progress = { _ in }) async throws -> ImageBuildResult {
        let plans = try DiskLayout.plan(machine: request.machine)  // bad layouts fail before any work
        try checkBootloaderFiles(request)
        let workRoot = dataDirectory.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: workRoot, withIntermediateDirectories: true)
        // What builds killed with their process left behind (a director SIGKILLed mid-build) goes first.
        let abandoned = WorkDirectoryLock.sweep(workRoot)
        if !abandoned.isEmpty {
            logger.notice(
                "removed work directories of builds that ended with their process",
                metadata: ["directories": "\(abandoned)"])
        }
        let work = workRoot.appendingPathComponent("\(request.machine.name)-\(UUID().uuidString)")
        let lock = try WorkDirectoryLock.acquire(work)
        do {
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            var result = try await build(request, plans: plans, work: work, progress: progress)
            result.workLock = lock
            return result
        } catch {
            lock.remove()
            throw error
        }
    }

    /// Builds and imports the images as the next version of the machine; the work directory is removed either way.
    @discardableResult
    public func buildAndImport(
        _ request: ImageBuildRequest, into store: ImageStore, change: ImageChange, description: String,
        progress: Progress = { _ in }
    ) async throws -> ImportStats {
        let result = try await build(request, progress: progress)
        defer { discard(result) }
        progress(ImageBuildProgress(step: "import", bytesDone: 0, bytesTotal: result.plans.reduce(0) { $0 + $1.size }))
        return try store.importImages(
            files: result.images, devices: result.plans.map(\.device), machine: request.machine.name, change: change,
            description: description, fileManifest: result.files)
    }

    public func discard(_ result: ImageBuildResult) {
        if let lock = result.workLock {
            lock.remove()
        } else {
            try? FileManager.default.removeItem(at: result.workDirectory)
        }
    }

    private func build(_ request: ImageBuildRequest, plans: [DiskPlan], work: URL, progress: Progress) async throws
        -> ImageBuildResult
    {
        let machine = request.machine
        let total = plans.reduce(0) { $0 + $1.size }
        func report(_ step: String, _ done: UInt64 = 0) {
            logger.debug("image build step", metadata: ["machine": "\(machine.name)", "step": "\(step)"])
            progress(ImageBuildProgress(step: step, bytesDone: done, bytesTotal: total))
        }
        let stage = work.appendingPathComponent("stage")
        report("base")
        try await prepareBase(request.base, epoch: request.sourceDateEpoch, into: stage)
        let overlay = OverlayLog(stage: stage)
        report("kernel")
        let kernels = try await installKernel(request.kernel, stage: stage, overlay: overlay)
        report("configure")
        let customizer = RootfsCustomizer(
            stage: stage, machine: machine, epoch: request.sourceDateEpoch, runner: runner, overlay: overlay)
        try await customizer.installFiles(request.binaries, what: "binary")
        try await customizer.installFiles(request.agent.files, what: "agent file")
        try customizer.writeIdentity()
        try customizer.writeUsers()
        try customizer.enable(units: machine.services + request.agent.enable)
        try customizer.writeText(Fstab.render(plans), at: "/etc/fstab")
        report("bootloader")
        let grub = try grubConfig(request, plans: plans, kernels: kernels)
        try await installBootloader(request, grub: grub, plans: plans, stage: stage, work: work, overlay: overlay)
        report("filesystems")
        let trees = try splitByPartition(stage: stage, plans: plans, work: work)
        let files = FileManifest.merged(
            try plans.flatMap { disk in
                try disk.partitions.compactMap { p -> FileManifest? in
                    guard let tree = trees[PartitionKey(disk: disk.index, number: p.number)], let mount = p.mount else {
                        return nil
                    }
                    return try FileManifest.scan(tree, mountPoint: mount)
                }
            })
        // After the scan: the overlay leaves the trees; times last, as moving files touches their directories.
        let overlays = try separateOverlay(overlay, trees: trees, plans: plans, work: work)
        for tree in trees.values { try await normaliseTimes(tree, epoch: request.sourceDateEpoch) }
        for key in overlays.keys {
            try await normaliseTimes(
                work.appendingPathComponent("overlay-\(key.disk)-\(key.number)"), epoch: request.sourceDateEpoch)
        }
        var images: [URL] = []
        var done: UInt64 = 0
        for disk in plans {
            report("disk \(disk.index)", done)
            images.append(
                try await assemble(
                    disk, trees: trees, overlays: overlays, files: files, request: request, grub: grub, work: work
                ) {
                    step in
                    report(step, done)
                })
            done += disk.size
        }
        report("done", total)
        return ImageBuildResult(
            images: images, plans: plans, files: files, kernels: kernels.map(\.version), grubConfig: grub,
            workDirectory: work)
    }

    // MARK: Base

    /// The cached tarball for `recipe`, running mmdebstrap first when the cache has none.
    public func baseTarball(for recipe: DebianRecipe) async throws -> URL {
        try await BaseCache(directory: dataDirectory.appendingPathComponent("bases"), runner: runner, logger: logger)
            .tarball(for: recipe)
    }

    func prepareBase(_ base: BaseSource, epoch: Int64, into stage: URL) async throws {
        switch base {
        case .directory(let dir):
            guard FileManager.default.fileExists(atPath: dir.appendingPathComponent(".").path) else {
                throw GoldError(.notFound, "base directory \(dir.path) does not exist", at: dir.path)
            }
            try FileManager.default.createDirectory(at: stage, withIntermediateDirectories: true)
            try await runner.check(
                "cp", ["-a", "--reflink=auto", dir.path + "/.", stage.path + "/"], context: dir.path)
        case .tarball(let tar):
            try await stageTarball(tar, epoch: epoch, into: stage)
        case .debian(let recipe):
            let tar = try await baseTarball(for: recipe)
            try await stageTarball(tar, epoch: epoch, into: stage)
        }
        for dir in Self.rootHierarchy {
            let path = stage.appendingPathComponent(dir).path
            var isDir: ObjCBool = false
            if !FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {  // follows /bin -> usr/bin
                try FileManager.default.createDirectory(
                    atPath: path, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: dir == "tmp" ? 0o1777 : (dir == "root" ? 0o700 : 0o755)])
            }
        }
    }

    /// The tarball's tree in `stage`: hard links to the cached unpacked tree, or unpacked when the cache is off or
    /// cannot be used (a cache problem costs the unpack, never the build).
    func stageTarball(_ tar: URL, epoch: Int64, into stage: URL) async throws {
        guard FileManager.default.fileExists(atPath: tar.path) else {
            throw GoldError(.notFound, "base tarball \(tar.path) does not exist", at: tar.path)
        }
        if let trees = baseTrees {
            do {
                try await trees.link(tar, epoch: epoch, into: stage, runner: runner)
                return
            } catch {
                logger.warning("base tree cache not used", metadata: ["error": "\(error)", "tarball": "\(tar.path)"])
                try? FileManager.default.removeItem(at: stage)
            }
        }
        try await untar(tar, into: stage)
    }

    func untar(_ tar: URL, into stage: URL) async throws {
        guard FileManager.default.fileExists(atPath: tar.path) else {
            throw GoldError(.notFound, "base tarball \(tar.path) does not exist", at: tar.path)
        }
        try FileManager.default.createDirectory(at: stage, withIntermediateDirectories: true)
        try await runner.check("tar", ["-xpf", tar.path, "--numeric-owner", "-C", stage.path], context: tar.path)
    }

    // MARK: Kernel

    /// Installs the kernel input (or finds the base's) and returns the kernels in /boot, default first.
    func installKernel(_ input: KernelInput?, stage: URL, overlay: OverlayLog) async throws -> [GrubConfig.Kernel] {
        let boot = stage.appendingPathComponent("boot")
        var primary: String?
        if let input {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: input.directory.path)) ?? []
            guard let image = names.filter({ $0.hasPrefix("vmlinuz-") }).sorted().last else {
                throw GoldError(
                    .notFound, "kernel input \(input.directory.path) has no vmlinuz-VERSION", at: input.directory.path)
            }
            let version = String(image.dropFirst("vmlinuz-".count))
            // No initrd: a kernel with its drivers built in (the compile server's) boots without one.
            for name in [image, "initrd.img-\(version)"] where names.contains(name) {
                let target = boot.appendingPathComponent(name)
                try? FileManager.default.removeItem(at: target)
                try await runner.check(
                    "cp", ["-L", input.directory.appendingPathComponent(name).path, target.path], context: name)
                overlay.record(target)
            }
            let modules = input.directory.appendingPathComponent("lib/modules/\(version)")
            if FileManager.default.fileExists(atPath: modules.path) {
                let target = try RootfsCustomizer(
                    stage: stage, machine: MachineSpec(name: "", macs: []), epoch: 0, runner: runner
                ).resolve("/lib/modules/\(version)")
                try FileManager.default.createDirectory(
                    at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try? FileManager.default.removeItem(at: target)
                try await runner.check("cp", ["-a", modules.path, target.path], context: modules.path)
                overlay.recordTree(target)
            }
            primary = version
        }
        let present = ((try? FileManager.default.contentsOfDirectory(atPath: boot.path)) ?? [])
            .filter { $0.hasPrefix("vmlinuz-") }.map { String($0.dropFirst("vmlinuz-".count)) }
            .sorted { $0.compare($1, options: .numeric) == .orderedDescending }
        guard let first = primary ?? present.first else {
            throw GoldError(
                .notFound,
                "no kernel: give a kernel input directory (vmlinuz-VERSION, optionally initrd.img-VERSION) or a base with /boot/vmlinuz-*",
                at: "kernel")
        }
        return ([first] + present.filter { $0 != first }).map {
            GrubConfig.Kernel(
                version: $0,
                initrd: FileManager.default.fileExists(atPath: boot.appendingPathComponent("initrd.img-\($0)").path))
        }
    }
}

struct PartitionKey: Hashable {
    var disk: Int
    var number: Int
}
