import Foundation
import GoldCore
import GoldSpawn

extension ImageBuilder {
    static let uefiModules = [
        "part_gpt", "part_msdos", "fat", "ext2", "search", "search_fs_uuid", "configfile", "normal", "linux", "echo",
        "test", "loadenv", "chain", "serial", "terminal", "efi_gop", "all_video", "reboot", "halt",
    ]
    static let biosModules = [
        "biosdisk", "part_gpt", "part_msdos", "fat", "ext2", "search", "search_fs_uuid", "configfile", "normal",
        "linux",
        "linux16", "echo", "test", "loadenv", "serial", "terminal", "reboot", "halt",
    ]

    func environment(_ request: ImageBuildRequest) -> [String: String] {
        let epoch = "\(request.sourceDateEpoch)"
        return [
            "E2FSPROGS_FAKE_TIME": epoch, "SOURCE_DATE_EPOCH": epoch, "MTOOLS_SKIP_CHECK": "1", "TZ": "UTC",
            "LC_ALL": "C",
        ]
    }

    func checkBootloaderFiles(_ request: ImageBuildRequest) throws {
        let files = request.bootloader
        let needed: [(URL, String)]
        switch request.machine.boot {
        case .uefi:
            needed = [
                (files.grubLibrary.appendingPathComponent("x86_64-efi/kernel.img"), "grub-efi-amd64-bin"),
                (files.ipxe.appendingPathComponent("ipxe.efi"), "ipxe"),
            ]
        case .bios:
            needed = [
                (files.grubLibrary.appendingPathComponent("i386-pc/boot.img"), "grub-pc-bin"),
                (files.ipxe.appendingPathComponent("ipxe.lkrn"), "ipxe"),
            ]
        }
        for (url, package) in needed where !FileManager.default.fileExists(atPath: url.path) {
            throw GoldError(.unavailable, "\(url.path) is missing: install the Debian package \(package)", at: url.path)
        }
    }

    func grubConfig(_ request: ImageBuildRequest, plans: [DiskPlan], kernels: [GrubConfig.Kernel]) throws -> GrubConfig
    {
        let all = plans.flatMap(\.partitions)
        guard let root = all.first(where: { $0.mount == "/" }), let rootUUID = root.fsUUID else {
            throw GoldError(.invalidInput, "no partition is mounted at /", at: "\(request.machine.name).disks")
        }
        guard root.filesystem == .ext4 else {
            throw GoldError(
                .invalidInput, "the root filesystem must be ext4 (GRUB reads it)", at: "\(request.machine.name).disks")
        }
        let boot = all.first { $0.mount == "/boot" } ?? root
        guard boot.filesystem == .ext4 || boot.filesystem == .vfat, let bootUUID = boot.fsUUID else {
            throw GoldError(.invalidInput, "/boot must be ext4 or vfat", at: "\(request.machine.name).disks")
        }
        let prefix = boot.mount == "/boot" ? "" : "/boot"
        let esp = all.first { $0.isESP }
        let envUUID: String
        let envPath: String
        switch request.machine.boot {
        case .uefi:
            guard let esp, let uuid = esp.fsUUID else {
                throw GoldError(.invalidInput, "a UEFI machine needs an EFI system partition", at: request.machine.name)
            }
            envUUID = uuid
            envPath = "/EFI/gold/grubenv"
        case .bios:
            envUUID = bootUUID
            envPath = "\(prefix)/grub/grubenv"
        }
        return GrubConfig(
            machine: request.machine.name, kernels: kernels, bootFilesystemUUID: bootUUID,
            bootPathPrefix: prefix, rootFilesystemUUID: rootUUID, rootPartitionUUID: root.partUUID,
            environmentFilesystemUUID: envUUID,
            environmentPath: envPath, boot: request.machine.boot, kernelArguments: request.kernelArguments,
            timeoutSeconds: request.grubTimeout, netbootArguments: request.netbootArguments,
            espFilesystemUUID: esp?.fsUUID)
    }

    func installBootloader(
        _ request: ImageBuildRequest, grub: GrubConfig, plans: [DiskPlan], stage: URL, work: URL, overlay: OverlayLog
    ) async throws {
        let files = RootfsCustomizer(
            stage: stage, machine: request.machine, epoch: request.sourceDateEpoch, runner: runner, overlay: overlay)
        let lib = request.bootloader.grubLibrary
        let envBlock = try GrubConfig.environmentBlock(
            request.grubEnvironment.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        try files.writeText(grub.rendered, at: "/boot/grub/grub.cfg")
        let early = work.appendingPathComponent("early.cfg")
        try Data(grub.embedded.utf8).write(to: early)
        let platform = request.machine.boot == .uefi ? "x86_64-efi" : "i386-pc"
        let modules = try files.resolve("/boot/grub/\(platform)")
        try? FileManager.default.removeItem(at: modules)
        try await runner.check(
            "cp", ["-a", lib.appendingPathComponent(platform).path, modules.path], context: "GRUB modules")
        switch request.machine.boot {
        case .uefi:
            let espMount = plans.flatMap(\.partitions).first { $0.isESP }?.mount ?? "/boot/efi"
            let efi = work.appendingPathComponent("BOOTX64.EFI")
            try await runner.check(
                "grub-mkimage",
                [
                    "-O", "x86_64-efi", "-d", lib.appendingPathComponent("x86_64-efi").path, "-o", efi.path, "-c",
                    early.path,
                    "-p", "/EFI/BOOT",
                ] + Self.uefiModules,
                environment: environment(request), context: "GRUB EFI image")
            try files.write(try Data(contentsOf: efi), at: "\(espMount)/EFI/BOOT/BOOTX64.EFI")
            try files.write(
                try Data(contentsOf: request.bootloader.ipxe.appendingPathComponent("ipxe.efi")),
                at: "\(espMount)/EFI/gold/ipxe.efi")
            try files.write(envBlock, at: "\(espMount)/EFI/gold/grubenv")
        case .bios:
            try await runner.check(
                "grub-mkimage",
                [
                    "-O", "i386-pc", "-d", lib.appendingPathComponent("i386-pc").path, "-o",
                    work.appendingPathComponent("core.img").path,
                    "-c", early.path, "-p", "\(grub.bootPathPrefix)/grub",
                ] + Self.biosModules,
                environment: environment(request), context: "GRUB BIOS core.img")
            try files.write(
                try Data(contentsOf: request.bootloader.ipxe.appendingPathComponent("ipxe.lkrn")), at: "/boot/ipxe.lkrn"
            )
            try files.write(envBlock, at: "/boot/grub/grubenv")
        }
    }

    /// Moves each mounted partition's subtree out of the stage (deepest first), leaving an empty mount point,
    /// so every filesystem is built from its own directory. The root filesystem keeps the stage.
    func splitByPartition(stage: URL, plans: [DiskPlan], work: URL) throws -> [PartitionKey: URL] {
        var trees: [PartitionKey: URL] = [:]
        let mounted = plans.flatMap { disk in disk.partitions.map { (disk.index, $0) } }
            .filter { $0.1.mount != nil && [.ext4, .vfat, .xfs].contains($0.1.filesystem) }
            .sorted { ($0.1.mount!.split(separator: "/").count) > ($1.1.mount!.split(separator: "/").count) }
        let customizer = RootfsCustomizer(
            stage: stage, machine: MachineSpec(name: "", macs: []), epoch: 0, runner: runner)
        for (disk, p) in mounted {
            let key = PartitionKey(disk: disk, number: p.number)
            if p.mount == "/" {
                trees[key] = stage
                continue
            }
            let tree = work.appendingPathComponent("part-\(disk)-\(p.number)")
            let source = try customizer.resolve(p.mount!)
            if FileManager.default.fileExists(atPath: source.path) {
                try FileManager.default.moveItem(at: source, to: tree)
            } else {
                try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
            }
            try FileManager.default.createDirectory(
                at: source, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755])
            trees[key] = tree
        }
        return trees
    }

    func normaliseTimes(_ tree: URL, epoch: Int64) async throws {
        try await runner.check(
            "find", [tree.path, "-exec", "touch", "-h", "-d", "@\(epoch)", "{}", "+"], context: tree.path)
    }

    /// Builds one disk image: sparse file, GPT, each filesystem in place, GRUB's BIOS boot code.
    func assemble(
        _ disk: DiskPlan, trees: [PartitionKey: URL], overlays: [PartitionKey: [OverlayEntry]], files: FileManifest,
        request: ImageBuildRequest, grub: GrubConfig, work: URL,
        report: (String) -> Void
    ) async throws -> URL {
        let image = work.appendingPathComponent("disk\(disk.index).raw")
        _ = FileManager.default.createFile(atPath: image.path, contents: nil)
        let handle = try FileHandle(forWritingTo: image)
        try handle.truncate(atOffset: disk.size)
        try handle.close()
        report("partition table")
        try await runner.check(
            "sfdisk", ["--no-reread", "--no-tell-kernel", "-q", image.path], environment: environment(request),
            input: Data(disk.sfdiskScript.utf8), context: "disk \(disk.index) of \(request.machine.name)")
        let env = environment(request)
        for p in disk.partitions {
            let tree = trees[PartitionKey(disk: disk.index, number: p.number)]
            let context =
                "\(request.machine.name) disk \(disk.index) partition \(p.number) (\(p.mount ?? p.filesystem.rawValue))"
            report("partition \(p.number) \(p.filesystem.rawValue)")
            switch p.filesystem {
            case .ext4:
                try await formatBaseLayer(
                    p, disk: disk.index, tree: tree, image: image, files: files, request: request, work: work,
                    report: report, context: context)
                report("partition \(p.number) ext4 machine files")
                try await writeOverlay(
                    overlays[PartitionKey(disk: disk.index, number: p.number)] ?? [], image: image, offset: p.offset,
                    work: work, environment: env, context: context)
                try await clampInodeTimes(
                    image: image, offset: p.offset, epoch: request.sourceDateEpoch, work: work, environment: env,
                    context: context)
                try await runner.check(
                    "tune2fs", ["-U", p.fsUUID!, "\(image.path)?offset=\(p.offset)"], environment: env, context: context
                )
            case .vfat:
                let file = work.appendingPathComponent("part-\(disk.index)-\(p.number).vfat")
                try? FileManager.default.removeItem(at: file)
                // --invariant fixes the time-based fields but also sets the volume id, so -i must come after it.
                var args = ["-C", "--invariant", "-i", p.fsUUID!.replacingOccurrences(of: "-", with: "")]
                if let label = p.label { args += ["-n", String(label.uppercased().prefix(11))] }
                try await runner.check(
                    "mkfs.vfat", args + [file.path, "\(p.size / 1024)"], environment: env, context: context)
                if let tree {
                    let children = try FileManager.default.contentsOfDirectory(atPath: tree.path).sorted()
                    if !children.isEmpty {
                        try await runner.check(
                            "mcopy",
                            ["-s", "-p", "-m", "-Q", "-i", file.path]
                                + children.map { tree.appendingPathComponent($0).path } + ["::/"],
                            environment: env, context: context)
                    }
                }
                try Self.copy(file, into: image, at: p.offset)
                try? FileManager.default.removeItem(at: file)
            case .swap:
                let file = work.appendingPathComponent("part-\(disk.index)-\(p.number).swap")
                _ = FileManager.default.createFile(atPath: file.path, contents: nil)
                let h = try FileHandle(forWritingTo: file)
                try h.truncate(atOffset: p.size)
                try h.close()
                try await runner.check("mkswap", ["-U", p.fsUUID!, file.path], environment: env, context: context)
                try Self.copy(file, into: image, at: p.offset)
                try? FileManager.default.removeItem(at: file)
            case .xfs:
                throw GoldError(
                    .invalidInput, "xfs partitions are not supported by the image builder yet; use ext4", at: context)
            case .none:
                if p.isBIOSBoot, request.machine.boot == .bios {
                    let core = try Data(contentsOf: work.appendingPathComponent("core.img"))
                    let patchedCore = try BIOSBootCode.patchedCoreImage(
                        core, coreSector: p.startSector, partitionSectors: p.sectors)
                    let boot = try Data(
                        contentsOf: request.bootloader.grubLibrary.appendingPathComponent("i386-pc/boot.img"))
                    let patchedBoot = try BIOSBootCode.patchedBootImage(boot, coreSector: p.startSector)
                    let h = try FileHandle(forWritingTo: image)
                    try h.seek(toOffset: p.offset)
                    try h.write(contentsOf: patchedCore)
                    try h.seek(toOffset: 0)
                    try h.write(contentsOf: patchedBoot)
                    try h.close()
                }
            }
        }
        return image
    }

    /// mke2fs 1.47.0's `-d` copies each source file's atime and ctime (the staging copy's, i.e. the build's
    /// wall clock) into the inodes, which E2FSPROGS_FAKE_TIME does not cover. The builder sets both to
    /// SOURCE_DATE_EPOCH with `debugfs -w set_inode_field` on the root and every used non-reserved inode (read
    /// from dumpe2fs's per-group free lists: directories spread across groups), keeping e2fsck clean.
    func clampInodeTimes(
        image: URL, offset: UInt64, epoch: Int64, work: URL, environment: [String: String], context: String
    ) async throws {
        let device = "\(image.path)?offset=\(offset)"
        let listing = try await runner.check("dumpe2fs", [device], environment: environment, context: context).stdout
        let used = try Self.usedInodes(dumpe2fs: listing, context: context)
        var commands = ""
        for inode in used where inode == 2 || inode >= 11 {
            commands += "set_inode_field <\(inode)> ctime @\(epoch)\nset_inode_field <\(inode)> atime @\(epoch)\n"
        }
        let script = work.appendingPathComponent("clamp-\(offset).debugfs")
        try Data(commands.utf8).write(to: script)
        defer { try? FileManager.default.removeItem(at: script) }
        let result = try await runner.check(
            "debugfs", ["-w", "-f", script.path, device], environment: environment, context: context)
        if result.stderr.contains("set_inode_field:") {
            throw GoldError(.io, "debugfs could not set inode times: \(result.stderr.prefix(200))", at: context)
        }
    }

    /// The used inode numbers: each group's range minus its `Free inodes:` list in `dumpe2fs` output.
    static func usedInodes(dumpe2fs text: String, context: String) throws -> [Int] {
        let lines = text.split(separator: "\n")
        guard let perGroupLine = lines.first(where: { $0.hasPrefix("Inodes per group:") }),
            let perGroup = Int(perGroupLine.dropFirst("Inodes per group:".count).trimmingCharacters(in: .whitespaces))
        else { throw GoldError(.io, "dumpe2fs printed no 'Inodes per group'", at: context) }
        var used: [Int] = []
        var group: Int?
        for line in lines {
            if line.hasPrefix("Group "), let number = Int(line.dropFirst(6).prefix { $0.isNumber }) {
                group = number
                continue
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard let g = group, trimmed.hasPrefix("Free inodes:") else { continue }
            let first = g * perGroup + 1
            var free = IndexSet()
            for item in trimmed.dropFirst("Free inodes:".count).split(separator: ",") {
                let bounds = item.trimmingCharacters(in: .whitespaces).split(separator: "-").compactMap { Int($0) }
                if bounds.count == 2 {
                    free.insert(integersIn: bounds[0]...bounds[1])
                } else if bounds.count == 1 {
                    free.insert(bounds[0])
                }
            }
            used += (first..<(first + perGroup)).filter { !free.contains($0) }
            group = nil
        }
        return used
    }

    /// Copies `file` into `image` at `offset`, skipping all-zero MiB blocks so the image stays sparse.
    static func copy(_ file: URL, into image: URL, at offset: UInt64) throws {
        let input = try FileHandle(forReadingFrom: file)
        defer { try? input.close() }
        let output = try FileHandle(forWritingTo: image)
        defer { try? output.close() }
        var position = offset
        while let data = try input.read(upToCount: 1 << 20), !data.isEmpty {
            if !data.withUnsafeBytes({ ChunkStore.isZero($0) }) {
                try output.seek(toOffset: position)
                try output.write(contentsOf: data)
            }
            position += UInt64(data.count)
        }
    }
}
