/// What the fleet file says a machine should be: the desired state Gold builds and deploys.
public struct MachineSpec: Hashable, Sendable, Codable {
    public var name: String
    public var profile: String?
    public var role: String?
    public var macs: [MACAddress]
    public var boot: BootMode
    public var cpu: CPUSpec
    public var disks: [DiskSpec]
    public var network: NetworkSpec
    public var users: [UserSpec]
    public var services: [String]
    public var kernel: KernelSpec?
    public var binaries: [BinarySpec]
    public var checks: [CheckSpec]
    public var power: PowerSpec
    /// Step deadlines for this machine where the defaults do not suit it (slow hardware, a long POST); nil: defaults.
    public var deadlines: DeadlineSpec?

    public init(
        name: String, profile: String? = nil, role: String? = nil, macs: [MACAddress], boot: BootMode = .uefi,
        cpu: CPUSpec = CPUSpec(), disks: [DiskSpec] = [], network: NetworkSpec = NetworkSpec(),
        users: [UserSpec] = [], services: [String] = [], kernel: KernelSpec? = nil, binaries: [BinarySpec] = [],
        checks: [CheckSpec] = [], power: PowerSpec = PowerSpec(driver: .manual), deadlines: DeadlineSpec? = nil
    ) {
        self.deadlines = deadlines
        self.name = name
        self.profile = profile
        self.role = role
        self.macs = macs
        self.boot = boot
        self.cpu = cpu
        self.disks = disks
        self.network = network
        self.users = users
        self.services = services
        self.kernel = kernel
        self.binaries = binaries
        self.checks = checks
        self.power = power
    }
}

/// Per-machine (or per-profile) overrides of step deadlines, in seconds; a nil field keeps the default.
public struct DeadlineSpec: Hashable, Sendable, Codable {
    /// From power-on or reboot until the machine fetches its boot files.
    public var pxe: Int?
    /// Power-cycles into PXE before Gold asks a person.
    public var pxeRetries: Int?
    public var checkIn: Int?
    public var ack: Int?
    public var compile: Int?
    public var imageBuild: Int?
    public var imageWrite: Int?
    public var boot: Int?
    public var checks: Int?
    public var torture: Int?

    /// The fleet file's names for the fields.
    public static let fields = [
        "pxe", "pxe_retries", "check_in", "ack", "compile", "image_build", "image_write", "boot", "checks", "torture",
    ]

    public init(
        pxe: Int? = nil, pxeRetries: Int? = nil, checkIn: Int? = nil, ack: Int? = nil, compile: Int? = nil,
        imageBuild: Int? = nil,
        imageWrite: Int? = nil, boot: Int? = nil, checks: Int? = nil, torture: Int? = nil
    ) {
        self.pxe = pxe
        self.pxeRetries = pxeRetries
        self.checkIn = checkIn
        self.ack = ack
        self.compile = compile
        self.imageBuild = imageBuild
        self.imageWrite = imageWrite
        self.boot = boot
        self.checks = checks
        self.torture = torture
    }
}

/// How the machine's firmware boots.
public enum BootMode: String, Hashable, Sendable, Codable, CaseIterable {
    case bios, uefi
}

/// CPU facts, and the `-march` level binaries and kernels are built for.
public struct CPUSpec: Hashable, Sendable, Codable {
    public var model: String?
    public var flags: [String]
    /// GCC's `-march` value, e.g. `x86-64-v2`, `x86-64-v3`, `native` is refused (it depends on the build host).
    public var march: String

    public init(model: String? = nil, flags: [String] = [], march: String = "x86-64") {
        self.model = model
        self.flags = flags
        self.march = march
    }

    /// The `-march` values Gold accepts: portable levels and named GCC targets, never `native`.
    public static let marchPattern = "x86-64, x86-64-v2, x86-64-v3, x86-64-v4, or a GCC CPU name such as znver3"
}

/// A disk and its partition layout.
public struct DiskSpec: Hashable, Sendable, Codable {
    /// `/dev/vda`, `/dev/disk/by-path/...`; or empty when `serial` identifies the disk.
    public var device: String?
    public var serial: String?
    public var size: ByteSize
    public var partitions: [PartitionSpec]

    public init(device: String? = nil, serial: String? = nil, size: ByteSize, partitions: [PartitionSpec] = []) {
        self.device = device
        self.serial = serial
        self.size = size
        self.partitions = partitions
    }
}

/// One partition: a size (or the rest of the disk), a filesystem, where it is mounted.
public struct PartitionSpec: Hashable, Sendable, Codable {
    /// Nil means "the rest of the disk"; only the last partition may omit it.
    public var size: ByteSize?
    public var filesystem: Filesystem
    public var mount: String?
    public var options: String?
    public var label: String?

    public init(
        size: ByteSize?, filesystem: Filesystem, mount: String? = nil, options: String? = nil, label: String? = nil
    ) {
        self.size = size
        self.filesystem = filesystem
        self.mount = mount
        self.options = options
        self.label = label
    }
}

public enum Filesystem: String, Hashable, Sendable, Codable, CaseIterable {
    case ext4, xfs, vfat, swap
    /// An unformatted partition (for example GRUB's BIOS boot partition or the GRUB environment block).
    case none
}

public struct NetworkSpec: Hashable, Sendable, Codable {
    public enum Mode: String, Hashable, Sendable, Codable, CaseIterable { case dhcp, `static` }
    public var hostname: String?
    public var mode: Mode
    /// `10.0.0.5/24` in static mode.
    public var address: String?
    public var gateway: String?
    public var dns: [String]

    public init(
        hostname: String? = nil, mode: Mode = .dhcp, address: String? = nil, gateway: String? = nil, dns: [String] = []
    ) {
        self.hostname = hostname
        self.mode = mode
        self.address = address
        self.gateway = gateway
        self.dns = dns
    }
}

public struct UserSpec: Hashable, Sendable, Codable {
    public var name: String
    public var groups: [String]
    public var shell: String
    public var keys: [String]
    /// A sudoers rule such as `ALL=(ALL) NOPASSWD: ALL`; nil for none.
    public var sudo: String?

    public init(
        name: String, groups: [String] = [], shell: String = "/bin/bash", keys: [String] = [], sudo: String? = nil
    ) {
        self.name = name
        self.groups = groups
        self.shell = shell
        self.keys = keys
        self.sudo = sudo
    }
}

/// The kernel a machine runs: a source and configuration fragments merged onto a base.
public struct KernelSpec: Hashable, Sendable, Codable {
    /// `debian:linux-source-6.1`, `tarball:/path`, `git:/path@rev`, or `package:linux-image-amd64` (Debian's build).
    public var source: String
    /// `tinyconfig`, `defconfig`, `debian`, or a path to a config file.
    public var base: String
    public var fragments: [String]
    public var localVersion: String?

    public init(source: String, base: String = "defconfig", fragments: [String] = [], localVersion: String? = nil) {
        self.source = source
        self.base = base
        self.fragments = fragments
        self.localVersion = localVersion
    }
}

/// A binary built for the machine with its own flags.
public struct BinarySpec: Hashable, Sendable, Codable {
    public var name: String
    /// `dir:/path`, `tarball:/path` or `git:/path@rev`.
    public var source: String
    public var build: [String]
    public var installs: [String]
    public var services: [String]
    public var needsReboot: Bool

    public init(
        name: String, source: String, build: [String] = [], installs: [String] = [], services: [String] = [],
        needsReboot: Bool = false
    ) {
        self.name = name
        self.source = source
        self.build = build
        self.installs = installs
        self.services = services
        self.needsReboot = needsReboot
    }
}

/// A check that proves the machine healthy.
public struct CheckSpec: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        /// A TCP connect from the build server to `target` (`host:port`, or `:port` on the machine).
        case tcp
        /// An HTTP GET from the build server expecting 2xx.
        case http
        /// An ssh login from the build server.
        case ssh
        /// A command run by the agent on the machine; exit 0 passes.
        case command
    }
    public var kind: Kind
    public var target: String

    public init(kind: Kind, target: String) {
        self.kind = kind
        self.target = target
    }
}

/// How Gold powers the machine on and off and chooses its next boot device.
public struct PowerSpec: Hashable, Sendable, Codable {
    public enum Driver: String, Hashable, Sendable, Codable, CaseIterable { case qemu, ipmi, redfish, manual }
    public var driver: Driver
    /// BMC address (`host[:port]`), Redfish URL, or QMP socket path.
    public var address: String?
    public var username: String?
    /// A file holding the BMC password: passwords never live in the fleet file or the store.
    public var passwordFile: String?

    public init(driver: Driver, address: String? = nil, username: String? = nil, passwordFile: String? = nil) {
        self.driver = driver
        self.address = address
        self.username = username
        self.passwordFile = passwordFile
    }
}
