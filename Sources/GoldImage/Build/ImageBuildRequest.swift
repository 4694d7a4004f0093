import Foundation
import GoldCore

/// A file to place in the image: a machine binary, an agent file, a unit.
public struct ImageFile: Hashable, Sendable {
    public enum Source: Hashable, Sendable {
        case file(URL)
        case bytes(Data)
    }
    /// Absolute path inside the machine, `/usr/local/bin/app`.
    public var path: String
    public var mode: UInt16
    public var uid: UInt32
    public var gid: UInt32
    public var source: Source
    /// Expected SHA-256 of the content (hex); the build fails when it differs.
    public var sha256: String?

    public init(
        path: String, mode: UInt16 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0, source: Source, sha256: String? = nil
    ) {
        self.path = path
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.source = source
        self.sha256 = sha256
    }
}

/// The kernel to install: a directory holding `vmlinuz-VERSION`, `initrd.img-VERSION` and optionally
/// `lib/modules/VERSION/` (what the compile server produces). Without one, the base's own Debian kernel is used.
public struct KernelInput: Hashable, Sendable {
    public var directory: URL
    public init(directory: URL) { self.directory = directory }
}

/// Where the base root filesystem comes from.
public enum BaseSource: Hashable, Sendable {
    /// A prepared tree, copied with `cp -a --reflink=auto`.
    case directory(URL)
    /// A tarball (as mmdebstrap writes), unpacked with `tar --numeric-owner`.
    case tarball(URL)
    /// Built with mmdebstrap and cached by recipe hash under the data directory.
    case debian(DebianRecipe)
}

/// The Gold agent's files and units, installed in every image: the lead fills this in (the gold-agent binary,
/// its systemd unit, the machine's token file at mode 0600).
public struct AgentHook: Hashable, Sendable {
    public var files: [ImageFile]
    /// Units to enable for multi-user.target, e.g. `gold-agent.service`.
    public var enable: [String]
    public init(files: [ImageFile] = [], enable: [String] = []) {
        self.files = files
        self.enable = enable
    }
}

/// Host files the bootloader step uses; defaults are the Debian packages' paths.
public struct BootloaderFiles: Hashable, Sendable {
    /// `/usr/lib/grub` (grub-pc-bin, grub-efi-amd64-bin).
    public var grubLibrary: URL
    /// `/usr/lib/ipxe` (ipxe): `ipxe.efi` and `ipxe.lkrn` for the gold-netboot entry.
    public var ipxe: URL
    public init(
        grubLibrary: URL = URL(fileURLWithPath: "/usr/lib/grub"), ipxe: URL = URL(fileURLWithPath: "/usr/lib/ipxe")
    ) {
        self.grubLibrary = grubLibrary
        self.ipxe = ipxe
    }
}

/// Everything one image build needs; two builds of equal requests give byte-identical images.
public struct ImageBuildRequest: Hashable, Sendable {
    public var machine: MachineSpec
    public var base: BaseSource
    public var kernel: KernelInput?
    public var binaries: [ImageFile]
    public var agent: AgentHook
    /// Every file's timestamp and the filesystems' creation time (reproducible-builds.org SOURCE_DATE_EPOCH).
    public var sourceDateEpoch: Int64
    /// Extra kernel arguments.
    public var kernelArguments: String
    public var grubTimeout: Int
    /// iPXE command line for gold-netboot; empty lets iPXE DHCP and chain what Gold's DHCP offers.
    public var netbootArguments: String
    /// Variables the GRUB environment block starts with (for example `saved_entry`).
    public var grubEnvironment: [String: String]
    public var bootloader: BootloaderFiles

    public init(
        machine: MachineSpec, base: BaseSource, kernel: KernelInput? = nil, binaries: [ImageFile] = [],
        agent: AgentHook = AgentHook(), sourceDateEpoch: Int64 = 1_700_000_000,
        kernelArguments: String = "console=tty0 console=ttyS0,115200n8 panic=10", grubTimeout: Int = 1,
        netbootArguments: String = "",
        grubEnvironment: [String: String] = [:], bootloader: BootloaderFiles = BootloaderFiles()
    ) {
        self.machine = machine
        self.base = base
        self.kernel = kernel
        self.binaries = binaries
        self.agent = agent
        self.sourceDateEpoch = sourceDateEpoch
        self.kernelArguments = kernelArguments
        self.grubTimeout = grubTimeout
        self.netbootArguments = netbootArguments
        self.grubEnvironment = grubEnvironment
        self.bootloader = bootloader
    }
}

/// What a build produced: one raw image per disk, in the machine's disk order.
public struct ImageBuildResult: Sendable {
    public var images: [URL]
    public var plans: [DiskPlan]
    public var files: FileManifest
    /// Kernel versions in /boot; the first is GRUB's default.
    public var kernels: [String]
    public var grubConfig: GrubConfig
    /// Where the build's files live; remove it (``ImageBuilder/discard(_:)``) once imported.
    public var workDirectory: URL
    /// Held while the result lives: a later build's sweep leaves the directory alone until it is discarded.
    var workLock: WorkDirectoryLock? = nil
}

/// A step of a build, for progress reporting.
public struct ImageBuildProgress: Sendable, Hashable {
    public var step: String
    public var bytesDone: UInt64
    public var bytesTotal: UInt64
}
