/// Where the netboot environment's files are, and what its kernel command line carries.
public struct NetbootEnvironment: Hashable, Sendable {
    /// Base URL of the deploy server's HTTP boot files, e.g. `http://10.77.0.1:8081/boot/files`.
    public var filesURL: String
    /// Paths under the TFTP root, for loaders that fetch over TFTP (pxelinux, GRUB).
    public var tftpKernel: String
    public var tftpInitrd: String
    /// The director's URL as the machine reaches it.
    public var directorURL: String
    public var console: String

    public init(
        filesURL: String, directorURL: String, tftpKernel: String = "netboot/vmlinuz",
        tftpInitrd: String = "netboot/initrd.img", console: String = "console=tty0 console=ttyS0,115200"
    ) {
        self.filesURL = filesURL
        self.directorURL = directorURL
        self.tftpKernel = tftpKernel
        self.tftpInitrd = tftpInitrd
        self.console = console
    }

    /// The kernel command line for one machine: the agent reads `gold.*` from it.
    public func commandLine(mode: NetbootMode, machine: String?, token: String?, mac: MACAddress?) -> String {
        var words = [console, "gold.director=\(directorURL)", "gold.mode=\(mode.rawValue)"]
        if let machine { words.append("gold.machine=\(machine)") }
        if let token { words.append("gold.token=\(token)") }
        // pxelinux's IPAPPEND 2 form: the NIC that booted, so the environment brings up that one first.
        if let mac { words.append("BOOTIF=01-\(mac.hyphenated)") }
        return words.joined(separator: " ")
    }
}

/// Boot loader scripts for each target: iPXE, pxelinux and GRUB, rendered per machine at request time.
public enum BootScripts {
    public static func ipxe(_ target: BootTarget, env: NetbootEnvironment, token: String?, mac: MACAddress?) -> String {
        switch target {
        case .localDisk, .ignore:
            // `exit` hands control back to the firmware, which tries its next boot device: the local disk.
            return "#!ipxe\necho Gold: booting from local disk\nexit\n"
        case .netboot(let mode, let machine):
            let cmdline = env.commandLine(mode: mode, machine: machine, token: token, mac: mac)
            // `initrd=` on the kernel line is needed under EFI (LAB-NOTES).
            return """
                #!ipxe
                echo Gold: netboot (\(mode.rawValue)) for \(machine ?? "an unknown machine")
                kernel \(env.filesURL)/netboot/vmlinuz initrd=initrd.img \(cmdline)
                initrd --name initrd.img \(env.filesURL)/netboot/initrd.img
                boot

                """
        }
    }

    public static func pxelinux(_ target: BootTarget, env: NetbootEnvironment, token: String?, mac: MACAddress?)
        -> String
    {
        switch target {
        case .localDisk, .ignore:
            return "DEFAULT local\nLABEL local\n  LOCALBOOT 0\n"
        case .netboot(let mode, let machine):
            let cmdline = env.commandLine(mode: mode, machine: machine, token: token, mac: mac)
            return """
                DEFAULT gold
                LABEL gold
                  KERNEL \(env.tftpKernel)
                  INITRD \(env.tftpInitrd)
                  APPEND \(cmdline)

                """
        }
    }

    public static func grub(_ target: BootTarget, env: NetbootEnvironment, token: String?, mac: MACAddress?) -> String {
        switch target {
        case .localDisk, .ignore:
            return "set timeout=0\nmenuentry 'local disk' --id local {\n  exit\n}\n"
        case .netboot(let mode, let machine):
            let cmdline = env.commandLine(mode: mode, machine: machine, token: token, mac: mac)
            return """
                set timeout=0
                menuentry 'Gold netboot (\(mode.rawValue))' --id gold-netboot {
                  linux /\(env.tftpKernel) \(cmdline)
                  initrd /\(env.tftpInitrd)
                }

                """
        }
    }
}
