import ArgumentParser
import Foundation
import Testing

@testable import GoldAgentKit

@Suite struct InventoryTests {
    /// A fixture tree shaped like a QEMU machine's /proc and /sys.
    func fixture() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("inv-\(UUID().uuidString)").path
        func write(_ path: String, _ text: String) throws {
            let url = URL(fileURLWithPath: root + path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        try write(
            "/proc/cpuinfo",
            """
            processor\t: 0
            model name\t: QEMU Virtual CPU version 2.5+
            flags\t\t: fpu sse sse2 ssse3

            processor\t: 1
            model name\t: QEMU Virtual CPU version 2.5+
            flags\t\t: fpu sse sse2 ssse3
            """)
        try write("/proc/meminfo", "MemTotal:        2030100 kB\nMemFree:  100 kB\n")
        try write("/proc/sys/kernel/osrelease", "6.1.0-28-amd64\n")
        try write("/sys/block/vda/size", "4194304\n")
        try write("/sys/block/vda/serial", "gold-disk-1\n")
        try write("/sys/block/vda/queue/rotational", "1\n")
        try write("/sys/block/loop0/size", "100\n")
        try write("/sys/class/net/eth0/address", "52:54:00:00:10:01\n")
        try write("/sys/class/net/eth0/carrier", "1\n")
        try FileManager.default.createDirectory(
            atPath: root + "/sys/class/net/eth0/device", withIntermediateDirectories: true)
        try write("/sys/class/net/lo/address", "00:00:00:00:00:00\n")
        try write("/sys/class/net/br0/address", "52:54:00:ff:ff:ff\n")
        try FileManager.default.createDirectory(atPath: root + "/sys/firmware/efi", withIntermediateDirectories: true)
        return root
    }

    @Test func collectsFromAFixtureTree() throws {
        let root = try fixture()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let inventory = InventoryCollector(root: root).collect()
        #expect(
            inventory.cpu
                == .init(model: "QEMU Virtual CPU version 2.5+", cores: 2, flags: ["fpu", "sse", "sse2", "ssse3"]))
        #expect(inventory.memoryBytes == 2_030_100 * 1024)
        #expect(
            inventory.disks == [
                .init(name: "vda", sizeBytes: 2 << 30, model: nil, serial: "gold-disk-1", rotational: true)
            ])
        #expect(inventory.nics == [.init(name: "eth0", mac: "52:54:00:00:10:01", link: true)])
        #expect(inventory.firmware == "uefi")
        #expect(inventory.kernel == "6.1.0-28-amd64")
    }

    @Test func kernelCommandLine() {
        let line = KernelCommandLine("console=ttyS0 gold.director=http://10.77.0.1:8080 gold.machine=lab-1 quiet\n")
        #expect(line["gold.director"] == "http://10.77.0.1:8080")
        #expect(line["gold.machine"] == "lab-1")
        #expect(line["quiet"] == nil)
    }

    @Test func settingsFromTheKernelCommandLine() throws {
        let options = try AgentOptions.parse(["--token-file", "/nonexistent"])
        let settings = try options.resolve(cmdline: "gold.director=http://d:1/ gold.machine=m gold.token=gold_x")
        #expect(settings.director == "http://d:1" && settings.machine == "m" && settings.token == "gold_x")
        #expect(throws: (any Error).self) { try options.resolve(cmdline: "gold.machine=m") }
    }
}
