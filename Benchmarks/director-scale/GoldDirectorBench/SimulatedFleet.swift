import GoldCore

/// A fleet of realistic machine entries, as `gold fleet apply` stores them: profiles resolved into each machine, two
/// NICs, an OS disk with four partitions and a data disk, users with keys, a kernel, a binary, checks, IPMI power.
public enum SimulatedFleet {
    static let roles = ["web", "db", "batch", "cache"]

    public static func make(machines count: Int) -> Fleet {
        let profiles = roles.map { role in
            ProfileSpec(
                name: "rack-\(role)",
                settings: .object([
                    "role": .string(role),
                    "cpu": .object(["model": .string("AMD EPYC 7313P"), "march": .string("znver3")]),
                    "services": .array(["ssh", "node-exporter", role].map(JSONValue.string)),
                    "power": .object([
                        "driver": .string("ipmi"), "username": .string("gold"),
                        "password_file": .string("/etc/gold/bmc.pass"),
                    ]),
                ]))
        }
        return Fleet(profiles: profiles, machines: (0..<count).map(machine))
    }

    public static func name(_ index: Int) -> String { "node-\(String(index).leftPadded(5))" }

    static func mac(_ index: Int, port: Int) -> MACAddress {
        MACAddress(bytes: [0x0c, 0xc4, 0x7a, UInt8(port), UInt8((index >> 8) & 0xff), UInt8(index & 0xff)])!
    }

    static func machine(_ index: Int) -> MachineSpec {
        let role = roles[index % roles.count]
        let name = name(index)
        let address = "10.\(20 + index / 65_000).\((index / 250) % 256).\(index % 250 + 2)"
        return MachineSpec(
            name: name, profile: "rack-\(role)", role: role,
            macs: [mac(index, port: 1), mac(index, port: 2)],
            boot: index % 10 == 0 ? .bios : .uefi,
            cpu: CPUSpec(model: "AMD EPYC 7313P", flags: ["avx2", "aes", "sha_ni"], march: "znver3"),
            disks: [
                DiskSpec(
                    device: "/dev/nvme0n1", serial: "S4EWNX0R\(String(index).leftPadded(6))",
                    size: ByteSize(bytes: 960 << 30),
                    partitions: [
                        PartitionSpec(size: ByteSize(bytes: 512 << 20), filesystem: .vfat, mount: "/boot/efi"),
                        PartitionSpec(size: ByteSize(bytes: 4 << 20), filesystem: .none, label: "grubenv"),
                        PartitionSpec(size: ByteSize(bytes: 8 << 30), filesystem: .swap),
                        PartitionSpec(size: nil, filesystem: .ext4, mount: "/", options: "defaults,noatime"),
                    ]),
                DiskSpec(
                    device: "/dev/sda", size: ByteSize(bytes: 4 << 40),
                    partitions: [
                        PartitionSpec(size: nil, filesystem: .xfs, mount: "/srv", options: "defaults,noatime")
                    ]),
            ],
            network: NetworkSpec(
                hostname: name, mode: .static, address: address + "/16", gateway: "10.\(20 + index / 65_000).0.1",
                dns: ["10.0.0.53", "10.0.1.53"]),
            users: [
                UserSpec(
                    name: "ops", groups: ["sudo", "adm"],
                    keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGoldBenchKeyOps\(index % 7) ops@gold"],
                    sudo: "ALL=(ALL) NOPASSWD: ALL"),
                UserSpec(
                    name: "deploy", groups: ["deploy"],
                    keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGoldBenchKeyDeploy deploy@ci"]),
            ],
            services: ["ssh", "node-exporter", role],
            kernel: KernelSpec(
                source: "debian:linux-source-6.1", base: "debian",
                fragments: ["CONFIG_NVME_CORE=y", "CONFIG_BLK_DEV_NVME=y", "CONFIG_XFS_FS=y", "CONFIG_MLX5_CORE=m"],
                localVersion: "-gold-\(role)"),
            binaries: [
                BinarySpec(
                    name: role, source: "git:/srv/src/\(role)@v2.4.1", build: ["make -j4 CFLAGS=-march=znver3"],
                    installs: ["/usr/local/bin/\(role)"], services: [role])
            ],
            checks: [
                CheckSpec(kind: .ssh, target: ""), CheckSpec(kind: .tcp, target: ":9100"),
                CheckSpec(kind: .command, target: "systemctl is-system-running --wait"),
            ],
            power: PowerSpec(
                driver: .ipmi, address: "10.254.\((index / 250) % 256).\(index % 250 + 2)", username: "gold",
                passwordFile: "/etc/gold/bmc.pass"))
    }

    /// What a netboot agent reports about the machine's hardware, about the size of the real agent's report.
    static func inventory(_ index: Int) -> JSONValue {
        .object([
            "cpu": .object([
                "model": .string("AMD EPYC 7313P 16-Core Processor"), "cores": .number(16), "threads": .number(32),
            ]),
            "memoryBytes": .number(Double(128 << 30)),
            "nics": .array(
                [1, 2].map { port in
                    .object([
                        "name": .string("enp65s0f\(port - 1)"), "mac": .string(mac(index, port: port).description),
                        "speed": .number(25000),
                    ])
                }),
            "disks": .array([
                .object([
                    "name": .string("nvme0n1"), "size": .number(Double(960 << 30)),
                    "model": .string("SAMSUNG MZQL2960HCJR-00A07"),
                    "serial": .string("S4EWNX0R\(String(index).leftPadded(6))"),
                ]),
                .object([
                    "name": .string("sda"), "size": .number(Double(4 << 40)), "model": .string("ST4000NM000A-2HZ100"),
                ]),
            ]),
            "firmware": .object([
                "vendor": .string("American Megatrends International, LLC."), "version": .string("2.4a"),
                "uefi": .bool(index % 10 != 0),
            ]),
        ])
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
