import Foundation
import GoldSpawn

/// The programs and firmware files a lab needs, each with the Debian package that provides it.
public enum HostRequirements {
    /// A file the lab needs and the package that installs it.
    public struct Requirement: Sendable, Hashable {
        public var what: String
        public var path: String
        public var debianPackage: String
        public var isProgram: Bool
    }

    public static let ip = Requirement(what: "ip", path: "ip", debianPackage: "iproute2", isProgram: true)
    public static let qemu = Requirement(
        what: "QEMU", path: "qemu-system-x86_64", debianPackage: "qemu-system-x86", isProgram: true)
    public static let qemuImg = Requirement(
        what: "qemu-img", path: "qemu-img", debianPackage: "qemu-utils", isProgram: true)
    public static let ovmfCode = Requirement(
        what: "OVMF firmware code", path: "/usr/share/OVMF/OVMF_CODE_4M.fd", debianPackage: "ovmf", isProgram: false)
    public static let ovmfVars = Requirement(
        what: "OVMF variable store template", path: "/usr/share/OVMF/OVMF_VARS_4M.fd", debianPackage: "ovmf",
        isProgram: false)
    /// iPXE ROM QEMU loads by default for virtio-net (BIOS and EFI images in one file).
    public static let ipxeROM = Requirement(
        what: "iPXE option ROM for virtio-net", path: "/usr/lib/ipxe/qemu/efi-virtio.rom", debianPackage: "ipxe-qemu",
        isProgram: false)
    public static let seabios = Requirement(
        what: "SeaBIOS", path: "/usr/share/seabios/bios-256k.bin", debianPackage: "seabios", isProgram: false)

    /// What machines of these boot modes need.
    public static func needed(for modes: Set<BootMode>) -> [Requirement] {
        var list = [ip, qemu, qemuImg]
        if modes.contains(.uefi) { list += [ovmfCode, ovmfVars] }
        if modes.contains(.bios) { list += [seabios, ipxeROM] }
        return list
    }

    /// The requirements that are absent on this host.
    public static func missing(_ list: [Requirement]) -> [Requirement] {
        list.filter { r in
            r.isProgram ? SystemRunner.locate(r.path) == nil : !FileManager.default.fileExists(atPath: r.path)
        }
    }

    /// Throws ``LabError/Code/missingTool`` naming every missing file and its package.
    public static func check(_ list: [Requirement]) throws {
        let absent = missing(list)
        guard !absent.isEmpty else { return }
        let names = absent.map { "\($0.what) (\($0.path)) — install Debian package \($0.debianPackage)" }
        let packages = Set(absent.map(\.debianPackage)).sorted().joined(separator: " ")
        throw LabError(
            .missingTool, "missing: \(names.joined(separator: "; ")). Run: apt-get install \(packages)")
    }

    /// Throws ``LabError/Code/notRoot`` unless running as root.
    public static func checkRoot(_ purpose: String) throws {
        guard geteuid() == 0 else {
            throw LabError(.notRoot, "\(purpose) needs root (network namespaces, bridges and taps); run as root")
        }
    }
}
