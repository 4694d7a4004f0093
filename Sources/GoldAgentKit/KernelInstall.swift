import Foundation
import GoldImage
import GoldSpawn

/// One filesystem as `blkid -o export` lists it.
public struct BlockDevice: Hashable, Sendable {
    public var device: String
    public var type: String?
    public var uuid: String?
    public var partUUID: String?

    /// Parses `blkid -o export`: blocks of `KEY=value` lines separated by blank lines.
    public static func parse(blkidExport text: String) -> [BlockDevice] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var values: [String: String] = [:]
            for line in block.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
            }
            guard let device = values["DEVNAME"] else { return nil }
            return BlockDevice(device: device, type: values["TYPE"], uuid: values["UUID"], partUUID: values["PARTUUID"])
        }
    }
}

/// The local disk's Gold boot files, found from the netboot environment by mounting its filesystems: the one
/// holding `grub/grub.cfg` (or `boot/grub/grub.cfg`), the root (`etc/fstab`), and GRUB's environment block
/// (`EFI/gold/grubenv` on the ESP, else `grub/grubenv` beside grub.cfg).
struct MountedDisk {
    var mounts: [String] = []
    var bootDir: String?
    var rootDir: String?
    var envFile: String?
    var devices: [BlockDevice] = []

    static func mount(runner: any ProgramRunner, under base: String = "/mnt/gold") async throws -> MountedDisk {
        var disk = MountedDisk()
        let listing = try await runner.run("blkid", ["-o", "export"], timeout: .seconds(30))
        disk.devices = BlockDevice.parse(blkidExport: listing.output)
        var espEnv: String?
        for device in disk.devices where device.type == "ext4" || device.type == "vfat" {
            let dir = base + "/" + (device.device as NSString).lastPathComponent
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let options =
                device.type == "vfat" ? ["-t", "vfat", "-o", "codepage=437,iocharset=ascii"] : ["-t", "ext4"]
            let result = try await runner.run("mount", options + [device.device, dir], timeout: .seconds(60))
            guard result.exitCode == 0 else { continue }
            disk.mounts.append(dir)
            let fm = FileManager.default
            if fm.fileExists(atPath: dir + "/boot/grub/grub.cfg") {
                disk.bootDir = dir + "/boot"
            } else if fm.fileExists(atPath: dir + "/grub/grub.cfg") && device.type == "ext4" {
                disk.bootDir = dir
            }
            if fm.fileExists(atPath: dir + "/etc/fstab") { disk.rootDir = dir }
            if fm.fileExists(atPath: dir + "/EFI/gold/grubenv") { espEnv = dir + "/EFI/gold/grubenv" }
        }
        disk.envFile = espEnv ?? disk.bootDir.map { $0 + "/grub/grubenv" }
        return disk
    }

    func unmount(runner: any ProgramRunner) async {
        _ = try? await runner.run("sync", [], timeout: .seconds(60))
        for dir in mounts.reversed() { _ = try? await runner.run("umount", [dir], timeout: .seconds(60)) }
    }
}

extension LiveHandlers {
    /// From the netboot environment: the artifact's kernel into the disk's /boot (modules into the root), a GRUB
    /// entry for it, and `next_entry` set to it: one trial boot, the old kernel still the default.
    func installKernel(key: String, api: AgentAPI) async throws -> HandlerResult {
        guard mode == .netboot else {
            return .failed("kernels are installed from the netboot environment, not on a running system")
        }
        let artifacts = ArtifactClient(base: api.director, token: api.token)
        let manifest = try await artifacts.manifest(key)
        guard let release = manifest.metadata.kernel?.release, let image = manifest.file("bzImage") else {
            return .failed("artifact \(key.prefix(12)) is not a kernel (no release or bzImage)")
        }
        let kernel = try await artifacts.bytes(sha256: image.sha256)
        var modules: [UInt8]?
        if let file = manifest.file("modules.tar") { modules = try await artifacts.bytes(sha256: file.sha256) }
        let disk = try await MountedDisk.mount(runner: runner)
        do {
            let result = try await installKernel(release: release, kernel: kernel, modules: modules, disk: disk)
            await disk.unmount(runner: runner)
            return result
        } catch {
            await disk.unmount(runner: runner)
            throw error
        }
    }

    func installKernel(release: String, kernel: [UInt8], modules: [UInt8]?, disk: MountedDisk) async throws
        -> HandlerResult
    {
        guard let boot = disk.bootDir, let env = disk.envFile else {
            return .failed(
                "no Gold boot filesystem on the local disks (none holds grub/grub.cfg): \(disk.devices.map(\.device))")
        }
        let cfgPath = boot + "/grub/grub.cfg"
        let cfg = try String(contentsOfFile: cfgPath, encoding: .utf8)
        guard let rootUUID = GrubMenuEdit.rootFilesystemUUID(in: cfg) else {
            return .failed("\(cfgPath) boots no root=UUID=: not a Gold grub.cfg")
        }
        guard let part = disk.devices.first(where: { $0.uuid == rootUUID })?.partUUID else {
            return .failed("no partition holds the root filesystem \(rootUUID) that grub.cfg boots")
        }
        try SafeFile.install(kernel, at: "\(boot)/vmlinuz-\(release)", mode: 0o644)
        if let modules {
            guard let root = disk.rootDir else {
                return .failed("the kernel has modules but no root filesystem (etc/fstab) was found")
            }
            let tar = "/tmp/gold-modules-\(release).tar"
            guard FileManager.default.createFile(atPath: tar, contents: Data(modules)) else {
                return .failed("cannot write the kernel's modules to \(tar) in the netboot environment")
            }
            let result = try await runner.run("tar", ["-xf", tar, "-C", root], timeout: .seconds(300))
            try? FileManager.default.removeItem(atPath: tar)
            guard result.exitCode == 0 else {
                return .failed("unpacking the modules into \(root) failed: \(result.output)")
            }
        }
        let initrd = FileManager.default.fileExists(atPath: "\(boot)/initrd.img-\(release)")
        try SafeFile.write(
            try GrubMenuEdit.addingKernel(cfg, version: release, initrd: initrd, rootPartitionUUID: part), at: cfgPath)
        let set = try await runner.run(
            "grub-editenv", [env, "set", "next_entry=gold-kernel-\(release)"], timeout: .seconds(30))
        guard set.exitCode == 0 else { return .failed("grub-editenv \(env) set next_entry failed: \(set.output)") }
        return HandlerResult(
            ok: true,
            detail: "kernel \(release) in \(boot) (\(kernel.count >> 10) KiB\(modules == nil ? "" : ", modules")); "
                + "next boot only: gold-kernel-\(release); the default stays", outputs: ["kernel.installed": release])
    }

    /// The environment block of the running system (ESP for UEFI, /boot/grub for BIOS).
    var installedEnvFile: String {
        FileManager.default.fileExists(atPath: root + "/boot/efi/EFI/gold/grubenv")
            ? root + "/boot/efi/EFI/gold/grubenv" : root + "/boot/grub/grubenv"
    }

    func runningKernel() -> String {
        (try? String(contentsOfFile: root + "/proc/sys/kernel/osrelease", encoding: .utf8))?.trimmingCharacters(
            in: .whitespacesAndNewlines) ?? ""
    }

    /// After its boot success: the kernel becomes GRUB's default.
    func promoteKernel(release: String) async throws -> HandlerResult {
        guard mode == .installed else { return .failed("a kernel is promoted from the system it booted") }
        let running = runningKernel()
        guard running == release else {
            return .failed("running kernel \(running), not \(release): only a kernel that booted is promoted")
        }
        let result = try await runner.run(
            "grub-editenv", [installedEnvFile, "set", "saved_entry=gold-kernel-\(release)"], timeout: .seconds(30))
        guard result.exitCode == 0 else { return .failed("grub-editenv set saved_entry failed: \(result.output)") }
        return HandlerResult(
            ok: true, detail: "gold-kernel-\(release) is the default (saved_entry in \(installedEnvFile))")
    }

    /// After a failed trial: the entry, the files and any pending one-shot for the kernel go.
    func removeKernel(release: String) async throws -> HandlerResult {
        guard mode == .installed else { return .failed("a kernel is removed from the running system") }
        guard runningKernel() != release else { return .failed("kernel \(release) is running: it is not removed") }
        let cfgPath = root + "/boot/grub/grub.cfg"
        let cfg = try String(contentsOfFile: cfgPath, encoding: .utf8)
        let edited = GrubMenuEdit.removingKernel(cfg, version: release)
        if edited != cfg { try SafeFile.write(edited, at: cfgPath) }
        var removed: [String] = []
        for path in [
            "/boot/vmlinuz-\(release)", "/boot/initrd.img-\(release)", "/lib/modules/\(release)",
            "/usr/lib/modules/\(release)",
        ]
        where FileManager.default.fileExists(atPath: root + path) {
            try FileManager.default.removeItem(atPath: root + path)
            removed.append(path)
        }
        let list = try await runner.run("grub-editenv", [installedEnvFile, "list"], timeout: .seconds(30))
        for name in ["next_entry", "saved_entry"] where list.output.contains("\(name)=gold-kernel-\(release)") {
            _ = try await runner.run("grub-editenv", [installedEnvFile, "unset", name], timeout: .seconds(30))
            removed.append(name)
        }
        return HandlerResult(
            ok: true,
            detail: edited == cfg && removed.isEmpty
                ? "kernel \(release) was not installed"
                : "removed kernel \(release): GRUB entry\(removed.isEmpty ? "" : ", " + removed.joined(separator: ", "))"
        )
    }
}
