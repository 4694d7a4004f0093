/// Firmware a lab machine boots with.
public enum BootMode: String, Sendable, Codable, Hashable {
    /// SeaBIOS with iPXE as the NIC's option ROM (`-machine pc`).
    case bios
    /// OVMF on q35 with its own PXE (UEFI network boot, no iPXE ROM).
    case uefi
}

/// How QEMU executes the guest.
public enum Accelerator: String, Sendable, Codable, Hashable {
    /// Probe KVM (`-accel kvm -cpu host` must boot SeaBIOS) and fall back to TCG.
    case auto
    case kvm
    case tcg
}

/// One disk of a lab machine.
public struct LabDiskSpec: Sendable, Codable, Hashable {
    public enum Format: String, Sendable, Codable, Hashable {
        case raw
        case qcow2
    }
    public var sizeBytes: UInt64
    public var format: Format

    public init(sizeBytes: UInt64, format: Format = .qcow2) {
        self.sizeBytes = sizeBytes
        self.format = format
    }

    /// A disk of `mebibytes` MiB.
    public static func mib(_ mebibytes: UInt64, _ format: Format = .qcow2) -> LabDiskSpec {
        LabDiskSpec(sizeBytes: mebibytes << 20, format: format)
    }
}

/// A virtual machine the lab creates.
public struct LabMachineSpec: Sendable, Codable, Hashable {
    /// Fleet name; also names the VM's files. Letters, digits, `-` and `_`.
    public var name: String
    /// MAC address of the boot NIC, `52:54:00:xx:xx:xx` style; nil derives one from the name.
    public var mac: String?
    public var bootMode: BootMode
    public var disks: [LabDiskSpec]
    public var memoryMiB: Int

    public init(
        name: String, mac: String? = nil, bootMode: BootMode, disks: [LabDiskSpec] = [.mib(1024)],
        memoryMiB: Int = 512
    ) {
        self.name = name
        self.mac = mac
        self.bootMode = bootMode
        self.disks = disks
        self.memoryMiB = memoryMiB
    }

    /// The MAC to use: the given one, else `52:54:00` (QEMU's locally administered prefix) and three bytes of a
    /// hash of the name, stable across runs.
    public var effectiveMAC: String {
        if let mac { return mac.lowercased() }
        var hash: UInt32 = 2_166_136_261  // FNV-1a
        for byte in name.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let bytes = [(hash >> 16) & 0xff, (hash >> 8) & 0xff, hash & 0xff]
        return "52:54:00:" + bytes.map { hex2($0) }.joined(separator: ":")
    }
}

private func hex2(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return s.count == 1 ? "0" + s : s
}

/// Where and how a lab is built.
public struct LabConfiguration: Sendable, Codable, Hashable {
    /// Network namespace name; tests use a unique one.
    public var namespace: String
    /// Bridge inside the namespace joining Gold and every VM's tap.
    public var bridge: String
    /// Gold's address on the bridge, CIDR.
    public var gatewayAddress: String
    /// Directory for the state file, disks, firmware variables, serial logs and QMP sockets.
    public var stateDirectory: String
    public var accelerator: Accelerator
    /// A veth from the host into the namespace: (host name, lab name, host CIDR, lab CIDR); nil for none.
    public var uplink: Uplink?

    public struct Uplink: Sendable, Codable, Hashable {
        public var hostLink: String
        public var labLink: String
        public var hostAddress: String
        public var labAddress: String

        public init(
            hostLink: String = "goldlab-h", labLink: String = "goldlab-n", hostAddress: String = "10.77.255.1/30",
            labAddress: String = "10.77.255.2/30"
        ) {
            self.hostLink = hostLink
            self.labLink = labLink
            self.hostAddress = hostAddress
            self.labAddress = labAddress
        }

        /// The lab side's address without its prefix: where the host reaches Gold's servers.
        public var labHost: String { String(labAddress.split(separator: "/")[0]) }
    }

    public init(
        namespace: String = "gold-lab", bridge: String = "goldbr0", gatewayAddress: String = "10.77.0.1/24",
        stateDirectory: String = "/var/lib/gold/lab", accelerator: Accelerator = .auto, uplink: Uplink? = nil
    ) {
        self.uplink = uplink
        self.namespace = namespace
        self.bridge = bridge
        self.gatewayAddress = gatewayAddress
        self.stateDirectory = stateDirectory
        self.accelerator = accelerator
    }

    /// The state file listing everything the lab created.
    public var stateFile: String { stateDirectory + "/lab.json" }
}
