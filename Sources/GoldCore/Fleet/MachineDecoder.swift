import Yams

/// Turns one machine's merged YAML mapping into a `MachineSpec`, recording problems in the reader.
enum MachineDecoder {
    static func decode(_ node: Node, _ path: String, _ r: inout YAMLReader) -> MachineSpec? {
        guard let fields = r.mapping(node, path, allowed: FleetParser.machineFields) else { return nil }
        let name = r.requiredString(fields, "name", path, parent: node) ?? ""
        let macs = r.strings(fields["macs"], "\(path).macs").enumerated().compactMap { index, text -> MACAddress? in
            guard let mac = MACAddress(text) else {
                r.fail(
                    fields["macs"], "\(path).macs[\(index)]",
                    "'\(text)' is not a MAC address; write it like 52:54:00:12:34:56")
                return nil
            }
            return mac
        }
        if fields["macs"].map({ r.strings($0, "\(path).macs").isEmpty }) ?? true {
            r.fail(node, "\(path).macs", "missing required field 'macs': a machine needs at least one MAC address")
        }
        let boot = fields["boot"].map { r.enumValue($0, "\(path).boot", as: BootMode.self) } ?? .uefi
        let machine = MachineSpec(
            name: name,
            profile: r.string(fields["profile"], "\(path).profile"),
            role: r.string(fields["role"], "\(path).role"),
            macs: macs,
            boot: boot ?? .uefi,
            cpu: cpu(fields["cpu"], "\(path).cpu", &r),
            disks: r.sequence(fields["disks"], "\(path).disks").enumerated().compactMap {
                disk($1, "\(path).disks[\($0)]", &r)
            },
            network: network(fields["network"], "\(path).network", &r),
            users: r.sequence(fields["users"], "\(path).users").enumerated().compactMap {
                user($1, "\(path).users[\($0)]", &r)
            },
            services: r.strings(fields["services"], "\(path).services"),
            kernel: fields["kernel"].flatMap { kernel($0, "\(path).kernel", &r) },
            binaries: r.sequence(fields["binaries"], "\(path).binaries").enumerated().compactMap {
                binary($1, "\(path).binaries[\($0)]", &r)
            },
            checks: r.sequence(fields["checks"], "\(path).checks").enumerated().compactMap {
                check($1, "\(path).checks[\($0)]", &r)
            },
            power: fields["power"].flatMap { power($0, "\(path).power", &r) } ?? PowerSpec(driver: .manual),
            deadlines: fields["deadlines"].flatMap { deadlines($0, "\(path).deadlines", &r) }
        )
        // Returned even with problems, so rules across machines (duplicate MACs) are checked too; the parse
        // fails as a whole when any problem was recorded.
        return name.isEmpty ? nil : machine
    }

    static func cpu(_ node: Node?, _ path: String, _ r: inout YAMLReader) -> CPUSpec {
        guard let node, let f = r.mapping(node, path, allowed: ["model", "flags", "march"]) else { return CPUSpec() }
        return CPUSpec(
            model: r.string(f["model"], "\(path).model"),
            flags: r.strings(f["flags"], "\(path).flags"),
            march: r.string(f["march"], "\(path).march") ?? "x86-64"
        )
    }

    static func disk(_ node: Node, _ path: String, _ r: inout YAMLReader) -> DiskSpec? {
        guard let f = r.mapping(node, path, allowed: ["device", "serial", "size", "partitions"]) else { return nil }
        guard let sizeNode = f["size"] else {
            r.fail(node, "\(path).size", "missing required field 'size'")
            return nil
        }
        let partitions = r.sequence(f["partitions"], "\(path).partitions").enumerated().compactMap {
            index, part -> PartitionSpec? in
            let ppath = "\(path).partitions[\(index)]"
            guard let p = r.mapping(part, ppath, allowed: ["size", "fs", "mount", "options", "label"]) else {
                return nil
            }
            var size: ByteSize?
            if let sizeNode = p["size"], r.string(sizeNode, "\(ppath).size") != "rest" {
                guard let parsed = r.size(sizeNode, "\(ppath).size") else { return nil }
                size = parsed
            }
            guard let fsNode = p["fs"] else {
                r.fail(
                    part, "\(ppath).fs",
                    "missing required field 'fs'; use one of: \(Filesystem.allCases.map(\.rawValue).joined(separator: ", "))"
                )
                return nil
            }
            guard let fs = r.enumValue(fsNode, "\(ppath).fs", as: Filesystem.self) else { return nil }
            return PartitionSpec(
                size: size, filesystem: fs, mount: r.string(p["mount"], "\(ppath).mount"),
                options: r.string(p["options"], "\(ppath).options"), label: r.string(p["label"], "\(ppath).label"))
        }
        guard let size = r.size(sizeNode, "\(path).size") else { return nil }
        return DiskSpec(
            device: r.string(f["device"], "\(path).device"), serial: r.string(f["serial"], "\(path).serial"),
            size: size, partitions: partitions)
    }

    static func network(_ node: Node?, _ path: String, _ r: inout YAMLReader) -> NetworkSpec {
        guard let node, let f = r.mapping(node, path, allowed: ["hostname", "mode", "address", "gateway", "dns"]) else {
            return NetworkSpec()
        }
        return NetworkSpec(
            hostname: r.string(f["hostname"], "\(path).hostname"),
            mode: f["mode"].flatMap { r.enumValue($0, "\(path).mode", as: NetworkSpec.Mode.self) } ?? .dhcp,
            address: r.string(f["address"], "\(path).address"),
            gateway: r.string(f["gateway"], "\(path).gateway"),
            dns: r.strings(f["dns"], "\(path).dns"))
    }

    static func user(_ node: Node, _ path: String, _ r: inout YAMLReader) -> UserSpec? {
        guard let f = r.mapping(node, path, allowed: ["name", "groups", "shell", "keys", "sudo"]) else { return nil }
        guard let name = r.requiredString(f, "name", path, parent: node) else { return nil }
        return UserSpec(
            name: name, groups: r.strings(f["groups"], "\(path).groups"),
            shell: r.string(f["shell"], "\(path).shell") ?? "/bin/bash", keys: r.strings(f["keys"], "\(path).keys"),
            sudo: r.string(f["sudo"], "\(path).sudo"))
    }

    static func kernel(_ node: Node, _ path: String, _ r: inout YAMLReader) -> KernelSpec? {
        guard let f = r.mapping(node, path, allowed: ["source", "base", "fragments", "localversion"]) else {
            return nil
        }
        guard let source = r.requiredString(f, "source", path, parent: node) else { return nil }
        return KernelSpec(
            source: source, base: r.string(f["base"], "\(path).base") ?? "defconfig",
            fragments: r.strings(f["fragments"], "\(path).fragments"),
            localVersion: r.string(f["localversion"], "\(path).localversion"))
    }

    static func binary(_ node: Node, _ path: String, _ r: inout YAMLReader) -> BinarySpec? {
        let allowed = ["name", "source", "build", "installs", "services", "reboot"]
        guard let f = r.mapping(node, path, allowed: allowed) else { return nil }
        guard let name = r.requiredString(f, "name", path, parent: node),
            let source = r.requiredString(f, "source", path, parent: node)
        else { return nil }
        return BinarySpec(
            name: name, source: source, build: r.strings(f["build"], "\(path).build"),
            installs: r.strings(f["installs"], "\(path).installs"),
            services: r.strings(f["services"], "\(path).services"),
            needsReboot: r.bool(f["reboot"], "\(path).reboot") ?? false)
    }

    static func check(_ node: Node, _ path: String, _ r: inout YAMLReader) -> CheckSpec? {
        let kinds = CheckSpec.Kind.allCases.map(\.rawValue)
        guard let f = r.mapping(node, path, allowed: kinds) else { return nil }
        guard f.count == 1, let (key, value) = f.first, let kind = CheckSpec.Kind(rawValue: key) else {
            r.fail(
                node, path, "a check is one of \(kinds.joined(separator: ", ")) with its target, e.g. 'tcp: \":22\"'")
            return nil
        }
        guard let target = r.string(value, "\(path).\(key)") else { return nil }
        return CheckSpec(kind: kind, target: target)
    }

    /// `deadlines: {pxe: 90s, check_in: 10m, pxe_retries: 3}`: durations as seconds or with s/m/h; retries a count.
    static func deadlines(_ node: Node, _ path: String, _ r: inout YAMLReader) -> DeadlineSpec? {
        guard let f = r.mapping(node, path, allowed: DeadlineSpec.fields) else { return nil }
        func seconds(_ key: String) -> Int? {
            guard let text = r.string(f[key], "\(path).\(key)") else { return nil }
            let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600]
            let (digits, unit) = text.last.flatMap { units[$0] }.map { (String(text.dropLast()), $0) } ?? (text, 1)
            // The bound is checked before multiplying: `9999999999999999h` once trapped the director.
            guard let value = Int(digits.filter { $0 != " " }), value > 0, value <= 7 * 86400 / unit else {
                r.fail(
                    f[key], "\(path).\(key)",
                    "'\(text)' is not a deadline; write seconds (90), or 90s, 10m, 2h (at most a week)")
                return nil
            }
            return value * unit
        }
        var spec = DeadlineSpec(
            pxe: seconds("pxe"), checkIn: seconds("check_in"), ack: seconds("ack"), compile: seconds("compile"),
            imageBuild: seconds("image_build"), imageWrite: seconds("image_write"), boot: seconds("boot"),
            checks: seconds("checks"),
            torture: seconds("torture"))
        spec.pxeRetries = r.int(f["pxe_retries"], "\(path).pxe_retries", in: 0...20)
        if let pxe = spec.pxe, let checkIn = spec.checkIn, pxe > checkIn {
            r.fail(
                f["pxe"], "\(path).pxe",
                "the PXE deadline (\(pxe) s) must not be longer than check_in (\(checkIn) s): a machine that never reached PXE is power-cycled again before the check-in deadline"
            )
        }
        return spec
    }

    static func power(_ node: Node, _ path: String, _ r: inout YAMLReader) -> PowerSpec? {
        guard let f = r.mapping(node, path, allowed: ["driver", "address", "username", "password_file"]) else {
            return nil
        }
        guard let driverNode = f["driver"] else {
            r.fail(
                node, "\(path).driver",
                "missing required field 'driver'; use one of: \(PowerSpec.Driver.allCases.map(\.rawValue).joined(separator: ", "))"
            )
            return nil
        }
        guard let driver = r.enumValue(driverNode, "\(path).driver", as: PowerSpec.Driver.self) else { return nil }
        return PowerSpec(
            driver: driver, address: r.string(f["address"], "\(path).address"),
            username: r.string(f["username"], "\(path).username"),
            passwordFile: r.string(f["password_file"], "\(path).password_file"))
    }
}
