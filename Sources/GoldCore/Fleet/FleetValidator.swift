/// Rules that span fields or machines: unique names and MACs, layouts that fit their disks, sane mount points.
public enum FleetValidator {
    /// GPT keeps its first MiB for the partition table and alignment, and 33 sectors at the end for its backup.
    public static let partitionTableOverhead: UInt64 = 2 << 20
    static let mebibyte: UInt64 = 1 << 20

    /// Machine, profile and user names: lowercase letters, digits and '-', starting with a letter or digit.
    /// What is wrong with a kernel spec, as (field under `kernel.`, message).
    public static func kernelProblems(_ kernel: KernelSpec) -> [(String, String)] {
        var problems: [(String, String)] = []
        for (i, fragment) in kernel.fragments.enumerated() where KernelFragment(fragment) == nil {
            problems.append(
                (
                    "fragments[\(i)]",
                    "'\(fragment)' is not a kernel option; write CONFIG_NAME=y|m|n|value or '# CONFIG_NAME is not set'"
                ))
        }
        // Kbuild appends it to the release name (`uname -r`): a short run of safe characters.
        if let local = kernel.localVersion,
            local.count > 64
                || !local.unicodeScalars.allSatisfy({
                    ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                        || "-_.+".unicodeScalars.contains($0)
                })
        {
            problems.append(
                ("localversion", "'\(local.prefix(80))' must be at most 64 letters, digits, '-', '_', '.' or '+'"))
        }
        let prefixes = ["debian:", "tarball:", "git:", "package:"]
        if !prefixes.contains(where: kernel.source.hasPrefix) {
            problems.append(("source", "'\(kernel.source)' must start with one of \(prefixes.joined(separator: ", "))"))
        }
        return problems
    }

    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 63 else { return false }
        let allowed = { (c: Unicode.Scalar) in ("a"..."z").contains(c) || ("0"..."9").contains(c) || c == "-" }
        return first != "-" && name.unicodeScalars.allSatisfy(allowed)
    }

    public static func validate(_ fleet: Fleet, file: String = "fleet.yaml", lines: [String: Int] = [:]) -> [GoldError]
    {
        var problems: [GoldError] = []
        func at(_ machine: MachineSpec, _ field: String) -> String {
            let line = lines[machine.name].map { ":\($0)" } ?? ""
            return "\(file)\(line) machines[\(machine.name)]\(field.isEmpty ? "" : ".")\(field)"
        }
        var names: [String: Int] = [:]
        var macs: [MACAddress: String] = [:]
        for machine in fleet.machines {
            if !isValidName(machine.name) {
                problems.append(
                    GoldError(
                        .invalidInput,
                        "machine name '\(machine.name)' must be 1-63 lowercase letters, digits and '-'",
                        at: at(machine, "name")))
            }
            names[machine.name, default: 0] += 1
            if names[machine.name] == 2 {
                problems.append(
                    GoldError(
                        .invalidInput, "machine '\(machine.name)' is defined more than once", at: at(machine, "name")))
            }
            for mac in machine.macs {
                if let other = macs[mac], other != machine.name || machine.macs.filter({ $0 == mac }).count > 1 {
                    problems.append(
                        GoldError(
                            .invalidInput, "MAC \(mac) is already used by machine '\(other)'", at: at(machine, "macs")))
                } else {
                    macs[mac] = machine.name
                }
            }
            problems += validateMachine(machine, at: { at(machine, $0) })
        }
        return problems
    }

    static func validateMachine(_ machine: MachineSpec, at: (String) -> String) -> [GoldError] {
        var problems: [GoldError] = []
        func fail(_ field: String, _ message: String) {
            problems.append(GoldError(.invalidInput, message, at: at(field)))
        }

        if machine.cpu.march == "native" {
            fail("cpu.march", "'native' depends on the build host, not the machine; use \(CPUSpec.marchPattern)")
        } else if !machine.cpu.march.unicodeScalars.allSatisfy({
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "."
        }) {
            fail("cpu.march", "'\(machine.cpu.march)' is not a -march value; use \(CPUSpec.marchPattern)")
        }

        var mounts: [String: String] = [:]
        for (d, disk) in machine.disks.enumerated() {
            let dpath = "disks[\(d)]"
            if disk.device == nil && disk.serial == nil {
                fail(dpath, "a disk needs a 'device' (e.g. /dev/vda) or a 'serial' to find it")
            }
            var used = partitionTableOverhead
            for (p, part) in disk.partitions.enumerated() {
                let ppath = "\(dpath).partitions[\(p)]"
                if let size = part.size {
                    // Sizes are at most 64PiB each (ByteSize.maximum); saturate anyway, a sum from outside never traps.
                    let rounded = size.bytes / mebibyte * mebibyte + (size.bytes % mebibyte == 0 ? 0 : mebibyte)
                    let (sum, overflow) = used.addingReportingOverflow(rounded)
                    used = overflow ? .max : sum
                } else if p != disk.partitions.count - 1 {
                    fail("\(ppath).size", "only the last partition may take the rest of the disk; give this one a size")
                } else {
                    let (sum, overflow) = used.addingReportingOverflow(mebibyte)
                    used = overflow ? .max : sum
                }
                if let mount = part.mount {
                    if part.filesystem == .swap || part.filesystem == .none {
                        fail("\(ppath).mount", "a \(part.filesystem.rawValue) partition has no mount point")
                    } else if !mount.hasPrefix("/") || mount.contains("//")
                        || mount.split(separator: "/").contains("..")
                    {
                        fail("\(ppath).mount", "mount point '\(mount)' must be an absolute path such as /var")
                    } else if let other = mounts[mount] {
                        fail("\(ppath).mount", "mount point \(mount) is already used by \(other)")
                    } else {
                        mounts[mount] = ppath
                    }
                }
            }
            if used > disk.size.bytes {
                fail(
                    "\(dpath).partitions",
                    "the layout needs \(ByteSize(bytes: used)) (with \(ByteSize(bytes: partitionTableOverhead)) for the partition table) but the disk is \(disk.size)"
                )
            }
        }
        if !machine.disks.isEmpty {
            if mounts["/"] == nil { fail("disks", "no partition is mounted at /; one must hold the root filesystem") }
            if machine.boot == .uefi {
                let esp = machine.disks.flatMap(\.partitions).contains {
                    $0.mount == "/boot/efi" && $0.filesystem == .vfat
                }
                if !esp {
                    fail(
                        "disks", "a uefi machine needs a vfat partition mounted at /boot/efi (the EFI system partition)"
                    )
                }
            }
        }

        if machine.network.mode == .static {
            if let address = machine.network.address {
                if IPv4CIDR(address) == nil {
                    fail("network.address", "'\(address)' is not an IPv4 address with a prefix, such as 10.0.0.5/24")
                }
            } else {
                fail("network.address", "static networking needs an address such as 10.0.0.5/24")
            }
        }
        if let gateway = machine.network.gateway, IPv4Address(gateway) == nil {
            fail("network.gateway", "'\(gateway)' is not an IPv4 address")
        }
        for (i, dns) in machine.network.dns.enumerated() where IPv4Address(dns) == nil {
            fail("network.dns[\(i)]", "'\(dns)' is not an IPv4 address")
        }
        if let hostname = machine.network.hostname, !isValidName(hostname) {
            fail("network.hostname", "hostname '\(hostname)' must be 1-63 lowercase letters, digits and '-'")
        }

        var users: Set<String> = []
        for (u, user) in machine.users.enumerated() {
            if !isValidName(user.name) {
                fail("users[\(u)].name", "user name '\(user.name)' must be lowercase letters, digits and '-'")
            }
            if !users.insert(user.name).inserted { fail("users[\(u)].name", "user '\(user.name)' is listed twice") }
            for (k, key) in user.keys.enumerated() where !SSHKey.looksValid(key) {
                fail(
                    "users[\(u)].keys[\(k)]",
                    "not an ssh public key; expected a line like 'ssh-ed25519 AAAA... comment'")
            }
            if let sudo = user.sudo, sudo.contains("\n") { fail("users[\(u)].sudo", "a sudo rule is one line") }
        }

        if let kernel = machine.kernel {
            for (field, message) in kernelProblems(kernel) { fail("kernel.\(field)", message) }
        }
        var binaries: Set<String> = []
        for (b, binary) in machine.binaries.enumerated() {
            if !binaries.insert(binary.name).inserted {
                fail("binaries[\(b)].name", "binary '\(binary.name)' is listed twice")
            }
            let prefixes = ["dir:", "tarball:", "git:"]
            if !prefixes.contains(where: binary.source.hasPrefix) {
                fail(
                    "binaries[\(b)].source",
                    "'\(binary.source)' must start with one of \(prefixes.joined(separator: ", "))")
            }
            for (i, path) in binary.installs.enumerated() where !path.hasPrefix("/") {
                fail("binaries[\(b)].installs[\(i)]", "'\(path)' must be an absolute path on the machine")
            }
        }
        switch machine.power.driver {
        case .ipmi:
            if let address = machine.power.address {
                let parts = address.split(separator: ":", omittingEmptySubsequences: false)
                if parts.first?.isEmpty != false || parts.count > 2
                    || (parts.count == 2 && !(Int(parts[1]).map { (1...65535).contains($0) } ?? false))
                {
                    fail(
                        "power.address",
                        "'\(address.prefix(80))' is not a BMC address; write HOST or HOST:PORT (port 1-65535)")
                }
            } else {
                fail("power.address", "the ipmi driver needs the BMC's address (host or host:port)")
            }
            if machine.power.username == nil { fail("power.username", "the ipmi driver needs a BMC user name") }
        case .redfish:
            if !(machine.power.address ?? "").hasPrefix("http") {
                fail("power.address", "the redfish driver needs the BMC's URL, such as https://bmc-01")
            }
        case .qemu, .manual: break
        }
        return problems
    }
}

/// An ssh public key line, checked by shape: a known type and a base64 body.
enum SSHKey {
    static let types = [
        "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
    ]
    static func looksValid(_ line: String) -> Bool {
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count >= 2, types.contains(String(parts[0])) else { return false }
        return parts[1].count >= 16 && parts[1].allSatisfy { $0.isLetter || $0.isNumber || "+/=".contains($0) }
    }
}

/// One kernel configuration option, as written in a fragment.
public struct KernelFragment: Hashable, Sendable {
    public var option: String
    /// `y`, `m`, `n`, or a value (string or number) as written.
    public var value: String

    public init?(_ line: String) {
        let text = line.trimmingWhitespace()
        if text.hasPrefix("# CONFIG_") && text.hasSuffix(" is not set") {
            let name = text.dropFirst(2).dropLast(" is not set".count)
            guard Self.isOptionName(name) else { return nil }
            option = String(name)
            value = "n"
            return
        }
        guard let equals = text.firstIndex(of: "=") else { return nil }
        let name = text[..<equals]
        let rest = text[text.index(after: equals)...]
        guard Self.isOptionName(name), !rest.isEmpty, !rest.contains("\n") else { return nil }
        option = String(name)
        value = String(rest)
    }

    static func isOptionName(_ name: Substring) -> Bool {
        name.hasPrefix("CONFIG_") && name.count > 7
            && name.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
