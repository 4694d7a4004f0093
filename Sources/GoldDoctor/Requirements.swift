/// Every program, file and host property Gold calls or reads, by role, with the Debian 12 package of each.
///
/// This table is the one list: `gold doctor` checks it, `gold serve`, `gold lab` and the demo refuse to start without
/// its required entries for their roles, and `scripts/setup.sh` installs every `package:` named here (it reads this
/// file; keep one requirement per line). `DoctorTests` holds the other lists in the code (the netboot environment's
/// tools, the image builder's) to it.
public enum Requirements {
    public static let all: [Requirement] = director + images + deploy + compile + lab + netboot + test

    /// The director: its store, power drivers, and the compile inputs it resolves (the toolchain is part of every job key).
    static let director: [Requirement] = [
        .file(
            "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0", package: "libsqlite3-0", for: [.director],
            "the embedded SQLite store (GRDB)"),
        .program(
            "gcc", package: "gcc", for: [.director, .compile],
            "the toolchain named in every compile job's key; the compiler"),
        .program(
            "ipmitool", package: "ipmitool", for: [.director], optional: true,
            "IPMI power control (power: {driver: ipmi})"),
        .program(
            "git", package: "git", for: [.director, .compile], optional: true, "sources given as git: repositories"),
        .file(
            "/usr/src/linux-source-6.1.tar.xz", package: "linux-source-6.1", for: [.director, .compile], optional: true,
            "kernels with source debian:linux-source-6.1"),
        Requirement(
            .freeDisk("/var/lib/gold", gib: 4), for: [.director], optional: true,
            "the store, image versions and backups"),
    ]

    /// Disk images, built by the director process without mounting anything (docs/dev/disk-images.md).
    static let images: [Requirement] = [
        .program("mmdebstrap", package: "mmdebstrap", for: [.director], "a Debian base tree for images"),
        .program(
            "arch-test", package: "arch-test", for: [.director], optional: true,
            "mmdebstrap, for a foreign architecture"),
        .program("fakechroot", package: "fakechroot", for: [.director], optional: true, "mmdebstrap without root"),
        .program("fakeroot", package: "fakeroot", for: [.director], optional: true, "mmdebstrap without root"),
        .program("gpg", package: "gpg", for: [.director], optional: true, "mmdebstrap's signed-by keyring guess"),
        .program("newuidmap", package: "uidmap", for: [.director], optional: true, "mmdebstrap's unshare mode"),
        .file(
            "/usr/share/perl5/Debian/DistroInfo.pm", package: "libdistro-info-perl", for: [.director], optional: true,
            "mmdebstrap's suite names"),
        .file(
            "/usr/share/perl5/Dpkg/Version.pm", package: "libdpkg-perl", for: [.director], optional: true,
            "mmdebstrap's vendor checks"),
        .program("sfdisk", package: "fdisk", for: [.director, .lab], "partition tables"),
        .program(
            "mkfs.ext4", package: "e2fsprogs", for: [.director, .lab],
            "ext4 file systems filled from a tree (mkfs.ext4 -d)"),
        .program("debugfs", package: "e2fsprogs", for: [.director, .lab], "files and times in an ext4 image"),
        .program("dumpe2fs", package: "e2fsprogs", for: [.director], "the inodes of an ext4 image"),
        .program("tune2fs", package: "e2fsprogs", for: [.director, .lab], "per-machine file system UUIDs"),
        .program("mkfs.vfat", package: "dosfstools", for: [.director, .lab], "the EFI system partition"),
        .program("mcopy", package: "mtools", for: [.director], "files into the EFI system partition"),
        .program("mkswap", package: "util-linux", for: [.director], "swap partitions"),
        .program("grub-mkimage", package: "grub-common", for: [.director], "GRUB for UEFI and BIOS machines"),
        .program(
            "grub-editenv", package: "grub-common", for: [.director, .lab], "GRUB's environment block (one-time boots)"),
        .file(
            "/usr/lib/grub/x86_64-efi/kernel.img", package: "grub-efi-amd64-bin", for: [.director],
            "GRUB's UEFI modules"),
        .file(
            "/usr/lib/grub/i386-pc/boot.img", package: "grub-pc-bin", for: [.director],
            "GRUB's BIOS boot sector and modules"),
        .file("/usr/lib/ipxe/ipxe.lkrn", package: "ipxe", for: [.director], "the BIOS images' gold-netboot GRUB entry"),
        .program("qemu-img", package: "qemu-utils", for: [.lab], "the lab's disks; gold image export --format qcow2"),
        Requirement(
            .freeDisk("/var/cache/gold", gib: 8), for: [.director], optional: true, "image builds and their caches"),
    ]

    /// The build/deploy role's boot servers: the loaders it serves over TFTP.
    static let deploy: [Requirement] = [
        .file("/usr/lib/ipxe/undionly.kpxe", package: "ipxe", for: [.deploy], "iPXE for BIOS PXE clients"),
        .file(
            "/usr/lib/ipxe/ipxe.efi", package: "ipxe", for: [.deploy, .director], "iPXE for UEFI PXE clients and images"
        ),
        .file("/usr/lib/ipxe/snponly.efi", package: "ipxe", for: [.deploy], "iPXE (SNP only) for UEFI PXE clients"),
        .file("/usr/lib/PXELINUX/pxelinux.0", package: "pxelinux", for: [.deploy], "pxelinux for BIOS PXE clients"),
        .file(
            "/usr/lib/syslinux/modules/bios/ldlinux.c32", package: "syslinux-common", for: [.deploy],
            "pxelinux's loader module"),
        Requirement(.freeDisk("/var/lib/gold", gib: 2), for: [.deploy], optional: true, "boot files and served images"),
    ]

    /// The compile role: kernels from Debian's source with the kernel's build needs, binaries with gcc, cached.
    static let compile: [Requirement] = [
        .program("make", package: "make", for: [.compile], "kernel and binary builds"),
        .file("/usr/include/stdio.h", package: "libc6-dev", for: [.compile], "C headers and libraries"),
        .program("flex", package: "flex", for: [.compile], "the kernel's build (kconfig lexer)"),
        .program("bison", package: "bison", for: [.compile], "the kernel's build (kconfig parser)"),
        .program("bc", package: "bc", for: [.compile], "the kernel's build (timeconst)"),
        .file("/usr/include/libelf.h", package: "libelf-dev", for: [.compile], "the kernel's build (objtool)"),
        .file(
            "/usr/include/openssl/ssl.h", package: "libssl-dev", for: [.compile], "the kernel's build (certificates)"),
        .program("xz", package: "xz-utils", for: [.compile], "unpacking Debian's kernel source"),
        .program(
            "ccache", package: "ccache", for: [.compile], optional: true,
            "rebuilds whose key changed reuse unchanged objects"),
        .program(
            "depmod", package: "kmod", for: [.compile, .lab],
            "modules_install of kernels with modules; the netboot kernel's module index"),
        .program(
            "openssl", package: "openssl", for: [.compile], optional: true, "module signing keys (kernel base: debian)"),
        .program(
            "pahole", package: "dwarves", for: [.compile], optional: true, "BTF type information (kernel base: debian)"),
        Requirement(
            .freeDisk("/var/cache/gold", gib: 6), for: [.compile], optional: true, "a kernel build tree and the ccache"),
    ]

    /// The QEMU lab (`gold lab up|demo`): machines on a bridge in a network namespace, with every role on this host.
    static let lab: [Requirement] = [
        Requirement(.root, for: [.lab], "network namespaces, bridges and taps"),
        .program("ip", package: "iproute2", for: [.lab], "the lab's namespace, bridge, veth and taps"),
        .program("sysctl", package: "procps", for: [.lab], "forwarding between the host and the lab"),
        .program("qemu-system-x86_64", package: "qemu-system-x86", for: [.lab], "the lab's machines"),
        .file(
            "/usr/share/OVMF/OVMF_CODE_4M.fd", package: "ovmf", for: [.lab], "UEFI firmware for the lab's UEFI machines"
        ),
        .file("/usr/share/OVMF/OVMF_VARS_4M.fd", package: "ovmf", for: [.lab], "the UEFI variable store template"),
        .file(
            "/usr/share/seabios/bios-256k.bin", package: "seabios", for: [.lab],
            "BIOS firmware for the lab's BIOS machines"),
        .file("/usr/lib/ipxe/qemu/efi-virtio.rom", package: "ipxe-qemu", for: [.lab], "the virtio NIC's PXE ROM"),
        .file(
            "/usr/src/linux-source-6.1.tar.xz", package: "linux-source-6.1", for: [.lab], "the demo's kernel upgrade"),
        Requirement(
            .file("/dev/net/tun"), fix: "a kernel with CONFIG_TUN (a container needs /dev/net/tun)", for: [.lab],
            "tap devices for the machines"),
        Requirement(
            .file("/proc/self/ns/net"), fix: "a kernel with network namespaces (CONFIG_NET_NS)", for: [.lab],
            "the lab's network"),
        Requirement(.freeDisk("/var/lib/gold", gib: 12), for: [.lab], "machine disks, images and a kernel build"),
    ]

    /// The netboot environment, built by `gold lab up`: Debian's kernel and an initramfs with busybox, the agent and the
    /// workflows' tools (copied from this host with their libraries).
    static let netboot: [Requirement] = [
        Requirement(
            .file("/var/cache/gold/kernel/boot/vmlinuz-*"),
            fix: "scripts/setup.sh fetches Debian's linux-image-amd64 there",
            for: [.lab], "the netboot environment's kernel and modules"),
        .program("busybox", package: "busybox-static", for: [.lab], "the netboot environment's shell and tools"),
        .program("ldd", package: "libc-bin", for: [.lab], "the libraries the netboot tools need"),
        .program("strip", package: "binutils", for: [.lab], "the agent's debug information, left out of the initramfs"),
        .program("partx", package: "util-linux", for: [.lab], "partitions after an image write (netboot tool)"),
        .program("blkid", package: "util-linux", for: [.lab], "file system UUIDs (netboot tool)"),
        .program("e2fsck", package: "e2fsprogs", for: [.lab], "checks after an image write (netboot tool)"),
        .program("stress-ng", package: "stress-ng", for: [.lab], "the torture test in the netboot environment"),
        .program("zstd", package: "zstd", for: [.lab], optional: true, "a zstd-compressed initramfs"),
    ]

    /// What only the test suite and the benchmarks use: real clients and peers to test Gold's servers against.
    static let test: [Requirement] = [
        .file("/usr/include/sqlite3.h", package: "libsqlite3-dev", for: [.test], "building Gold (GRDB links SQLite)"),
        .program("tftp", package: "tftp-hpa", for: [.test], "a real TFTP client"),
        .program("atftp", package: "atftp", for: [.test], "a real TFTP client with blksize and windowsize"),
        .program("curl", package: "curl", for: [.test], "a real TFTP and HTTP client"),
        .program("dnsmasq", package: "dnsmasq-base", for: [.test], "a DHCP server beside Gold's proxyDHCP"),
        .program("cpio", package: "cpio", for: [.test], "reading Gold's initramfs archives back"),
        .file(
            "/usr/lib/ipxe/qemu/pxe-e1000.rom", package: "ipxe-qemu", for: [.test],
            "iPXE on an e1000 NIC against Gold's DHCP"),
        .program("ipmi_sim", package: "openipmi", for: [.test], "a simulated BMC for the IPMI power driver"),
        .program("ipmitool", package: "ipmitool", for: [.test], "the IPMI power driver against the simulated BMC"),
        .file(
            "/usr/lib/python3.11/ensurepip/__init__.py", package: "python3-venv", for: [.test],
            "the Redfish simulator's virtual environment"),
        Requirement(
            .program("/opt/gold/sushy/bin/sushy-emulator"),
            fix: "scripts/setup.sh installs sushy-tools from PyPI there",
            for: [.test], "a Redfish BMC simulator"),
        Requirement(
            .program("/opt/gold/apitools/bin/openapi-spec-validator"),
            fix: "scripts/setup.sh installs it from PyPI there",
            for: [.test], "checks the director's OpenAPI document"),
        .program("losetup", package: "mount", for: [.test], "reading a lab disk's root file system"),
        .program("mmdebstrap", package: "mmdebstrap", for: [.test], "the fresh-machine check's throwaway Debian root"),
        .program(
            "in.tftpd", package: "tftpd-hpa", for: [.test], "the TFTP server Gold is measured against (Benchmarks/tftp)"
        ),
        .program(
            "bmaptool", package: "bmap-tools", for: [.test],
            "the image writer's benchmark peer (Benchmarks/image-write)"),
    ]
}
