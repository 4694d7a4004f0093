import Foundation
import GoldPower
import GoldSpawn

/// One lab VM: its files, its QEMU command line and its power driver.
///
/// The VM's QEMU process is started once by ``Lab/up(machines:)``, paused and powered off (`-S`), and lives until
/// ``Lab/down()``; power is then only QMP (see `QEMUPowerDriver`).
public struct LabMachine: Sendable, Codable, Hashable {
    public var spec: LabMachineSpec
    /// The VM's directory in the lab's state directory.
    public var directory: String
    /// Tap device inside the namespace.
    public var tap: String

    public init(spec: LabMachineSpec, directory: String, tap: String) {
        self.spec = spec
        self.directory = directory
        self.tap = tap
    }

    public var qmpSocket: String { directory + "/qmp.sock" }
    public var serialLog: String { directory + "/serial.log" }
    public var pidFile: String { directory + "/qemu.pid" }
    public var varsFile: String { directory + "/OVMF_VARS_4M.fd" }
    public var serconFile: String { directory + "/sercon-port.bin" }
    public static let networkDeviceID = "nic0"
    public var diskDeviceIDs: [String] { spec.disks.indices.map { "disk\($0)" } }

    public func diskPath(_ index: Int) -> String { directory + "/disk\(index).\(spec.disks[index].format.rawValue)" }

    /// A power driver for this VM.
    public func powerDriver() -> QEMUPowerDriver {
        QEMUPowerDriver(
            machine: spec.name, socketPath: qmpSocket, networkDeviceID: Self.networkDeviceID,
            diskDeviceIDs: diskDeviceIDs)
    }

    /// The serial console of this VM.
    public var console: SerialConsole { SerialConsole(path: serialLog, machine: spec.name) }

    public var fleetEntry: LabFleetEntry {
        LabFleetEntry(
            name: spec.name, mac: spec.effectiveMAC, bootMode: spec.bootMode,
            disks: spec.disks.enumerated().map { i, d in
                LabFleetEntry.Disk(device: "vd" + String(UnicodeScalar(UInt8(97 + i))), sizeBytes: d.sizeBytes)
            },
            power: .init(
                driver: "qemu", qmpSocket: qmpSocket, networkDeviceID: Self.networkDeviceID,
                diskDeviceIDs: diskDeviceIDs),
            serialLog: serialLog)
    }

    /// `qemu-system-x86_64` arguments (run through `ip netns exec`).
    ///
    /// Boot order is by `bootindex`: NIC 1, disks 10, 11, … (network first; see `QEMUPowerDriver`). `-nodefaults`
    /// drops the default VGA, floppy and CD-ROM, so the firmware tries only the NIC and the disks. BIOS: SeaBIOS
    /// prints to the serial port because fw_cfg `etc/sercon-port` holds 0x3f8 (what QEMU itself sets only for
    /// `-nographic`, which `-daemonize` refuses). UEFI: OVMF on q35 with a per-VM variable store and an empty NIC
    /// `romfile`, so OVMF's own PXE runs.
    public func qemuArguments(accelerator: Accelerator) -> [String] {
        var args = [
            "-name", "guest=\(spec.name)", "-machine", spec.bootMode == .uefi ? "q35" : "pc",
            "-accel", accelerator == .kvm ? "kvm" : "tcg",
        ]
        if accelerator == .kvm { args += ["-cpu", "host"] }
        args += [
            "-m", String(spec.memoryMiB), "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
            "-serial", "file:\(serialLog)", "-qmp", "unix:\(qmpSocket),server=on,wait=off",
            "-S", "-no-shutdown", "-daemonize", "-pidfile", pidFile,
        ]
        switch spec.bootMode {
        case .uefi:
            args += [
                "-drive", "if=pflash,format=raw,readonly=on,file=\(HostRequirements.ovmfCode.path)",
                "-drive", "if=pflash,format=raw,file=\(varsFile)",
            ]
        case .bios:
            args += ["-fw_cfg", "name=etc/sercon-port,file=\(serconFile)"]
        }
        // BIOS: no `romfile` property at all, so QEMU loads its default efi-virtio.rom (iPXE, package ipxe-qemu).
        // Measured on QEMU 7.2: naming any ROM file explicitly, even that same one, leaves SeaBIOS without the NIC
        // in its boot menu ("Booting from Hard Disk…", never "Booting from ROM"). UEFI: an empty `romfile` keeps
        // iPXE out so OVMF's own PXE runs.
        let rom = spec.bootMode == .bios ? "" : ",romfile="
        args += [
            "-netdev", "tap,id=net0,ifname=\(tap),script=no,downscript=no",
            "-device",
            "virtio-net-pci,id=\(Self.networkDeviceID),netdev=net0,mac=\(spec.effectiveMAC),bootindex=1\(rom)",
        ]
        for (i, disk) in spec.disks.enumerated() {
            args += [
                "-drive", "file=\(diskPath(i)),format=\(disk.format.rawValue),if=none,id=drive\(i)",
                "-device", "virtio-blk-pci,drive=drive\(i),id=disk\(i),bootindex=\(10 + i)",
            ]
        }
        return args
    }

    /// Creates the VM's files: disks, a copy of the OVMF variable store, SeaBIOS's serial-console setting.
    func createFiles(runner: any ProgramRunner) async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (i, disk) in spec.disks.enumerated() {
            let result = try await runner.run(
                "qemu-img", ["create", "-q", "-f", disk.format.rawValue, diskPath(i), String(disk.sizeBytes)],
                timeout: .seconds(60))
            guard result.exitCode == 0 else {
                throw LabError(.commandFailed, "\(spec.name): qemu-img create \(diskPath(i)): \(result.summary)")
            }
        }
        switch spec.bootMode {
        case .uefi:
            try? FileManager.default.removeItem(atPath: varsFile)
            try FileManager.default.copyItem(atPath: HostRequirements.ovmfVars.path, toPath: varsFile)
        case .bios:
            try Self.writeSerconPort(to: serconFile)
        }
    }

    /// SeaBIOS reads fw_cfg `etc/sercon-port` as a little-endian integer: the I/O port of COM1.
    static func writeSerconPort(to path: String) throws {
        try Data([0xf8, 0x03]).write(to: URL(fileURLWithPath: path))
    }

    /// Starts QEMU inside `namespace`, daemonised; returns its pid from the pidfile.
    func launch(namespace: String, accelerator: Accelerator, runner: any ProgramRunner) async throws -> Int32 {
        try? FileManager.default.removeItem(atPath: qmpSocket)
        let result = try await runner.run(
            "ip", ["netns", "exec", namespace, "qemu-system-x86_64"] + qemuArguments(accelerator: accelerator),
            environment: [:], timeout: .seconds(30))
        guard result.exitCode == 0, !result.timedOut else {
            throw LabError(.commandFailed, "\(spec.name): QEMU did not start: \(result.summary)")
        }
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw LabError(.commandFailed, "\(spec.name): QEMU started but wrote no pid to \(pidFile)") }
        return pid
    }
}
