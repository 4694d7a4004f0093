import Foundation

/// What the agent reports about the machine it runs on: CPU, memory, disks, NICs, firmware.
public struct Inventory: Codable, Hashable, Sendable {
    public struct CPU: Codable, Hashable, Sendable {
        public var model: String
        public var cores: Int
        public var flags: [String]
    }
    public struct Disk: Codable, Hashable, Sendable {
        public var name: String
        public var sizeBytes: UInt64
        public var model: String?
        public var serial: String?
        public var rotational: Bool?
    }
    public struct NIC: Codable, Hashable, Sendable {
        public var name: String
        public var mac: String
        public var link: Bool?
    }
    public var cpu: CPU
    public var memoryBytes: UInt64
    public var disks: [Disk]
    public var nics: [NIC]
    /// `uefi` when /sys/firmware/efi exists, else `bios`.
    public var firmware: String
    public var kernel: String?
}

/// Reads the inventory from a root directory (`/` on a machine; a fixture tree in tests).
public struct InventoryCollector: Sendable {
    public let root: String

    public init(root: String = "/") { self.root = root.hasSuffix("/") ? String(root.dropLast()) : root }

    func read(_ path: String) -> String? {
        try? String(contentsOfFile: root + path, encoding: .utf8)
    }

    func list(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + path)) ?? []).sorted()
    }

    public func collect() -> Inventory {
        Inventory(
            cpu: Self.parseCPU(read("/proc/cpuinfo") ?? ""),
            memoryBytes: Self.parseMemory(read("/proc/meminfo") ?? ""),
            disks: disks(),
            nics: nics(),
            firmware: FileManager.default.fileExists(atPath: root + "/sys/firmware/efi") ? "uefi" : "bios",
            kernel: read("/proc/sys/kernel/osrelease")?.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Whole disks from /sys/block: not loop, ram, zram or device-mapper devices.
    func disks() -> [Inventory.Disk] {
        list("/sys/block").filter { name in
            !["loop", "ram", "zram", "dm-", "sr", "fd", "nbd"].contains { name.hasPrefix($0) }
        }.map { name in
            let base = "/sys/block/\(name)"
            let sectors = UInt64(read("\(base)/size")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
            func attribute(_ file: String) -> String? {
                guard let text = read("\(base)/\(file)")?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty
                else { return nil }
                return text
            }
            return Inventory.Disk(
                name: name, sizeBytes: sectors * 512, model: attribute("device/model"),
                serial: attribute("device/serial") ?? attribute("serial"),
                rotational: attribute("queue/rotational").map { $0 == "1" })
        }
    }

    /// Physical NICs from /sys/class/net: those with a device link, so not lo, bridges or veths.
    func nics() -> [Inventory.NIC] {
        list("/sys/class/net").filter { name in
            name != "lo" && FileManager.default.fileExists(atPath: root + "/sys/class/net/\(name)/device")
        }.compactMap { name in
            guard let mac = read("/sys/class/net/\(name)/address")?.trimmingCharacters(in: .whitespacesAndNewlines)
            else { return nil }
            let carrier = read("/sys/class/net/\(name)/carrier")?.trimmingCharacters(in: .whitespacesAndNewlines)
            return Inventory.NIC(name: name, mac: mac, link: carrier.map { $0 == "1" })
        }
    }

    /// `/proc/cpuinfo`: the first processor's model and flags, and the count of processors.
    public static func parseCPU(_ text: String) -> Inventory.CPU {
        var model = "unknown"
        var flags: [String] = []
        var cores = 0
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            switch key {
            case "processor": cores += 1
            case "model name" where model == "unknown": model = value
            case "flags" where flags.isEmpty: flags = value.split(separator: " ").map(String.init)
            default: break
            }
        }
        return Inventory.CPU(model: model, cores: cores, flags: flags)
    }

    /// `/proc/meminfo`'s MemTotal, in bytes.
    public static func parseMemory(_ text: String) -> UInt64 {
        for line in text.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kib = UInt64(fields[1]) { return kib * 1024 }
        }
        return 0
    }
}
