import Testing

@testable import GoldNetboot

@Suite struct ModuleDependenciesTests {
    /// Lines as Debian 6.1's depmod writes them (trimmed).
    static let modulesDep = """
        kernel/arch/x86/crypto/crc32c-intel.ko:
        kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
        kernel/fs/jbd2/jbd2.ko:
        kernel/fs/mbcache.ko:
        kernel/lib/crc16.ko:
        kernel/drivers/virtio/virtio.ko:
        kernel/drivers/virtio/virtio_ring.ko:
        kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
        kernel/drivers/virtio/virtio_pci_modern_dev.ko:
        kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
        kernel/net/core/failover.ko:
        kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
        kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko

        """
    static let builtin = "kernel/net/packet/af_packet.ko\nkernel/fs/binfmt_script.ko\n"

    func index(of path: String, in order: [String]) -> Int { order.firstIndex(of: path) ?? -1 }

    @Test func everyModuleComesAfterItsDependencies() throws {
        let deps = try ModuleDependencies(modulesDep: Self.modulesDep, modulesBuiltin: Self.builtin)
        let order = try deps.loadOrder(for: ["virtio_net", "ext4", "virtio_pci", "crc32c-intel"])
        #expect(Set(order).count == order.count)
        #expect(order.count == 13)
        for (module, needs) in deps.dependencies where order.contains(module) {
            for need in needs {
                #expect(index(of: need, in: order) < index(of: module, in: order), "\(need) before \(module)")
            }
        }
        #expect(
            order == [
                "kernel/net/core/failover.ko", "kernel/drivers/net/net_failover.ko", "kernel/drivers/virtio/virtio.ko",
                "kernel/drivers/virtio/virtio_ring.ko", "kernel/drivers/net/virtio_net.ko",
                "kernel/lib/crc16.ko", "kernel/fs/mbcache.ko", "kernel/fs/jbd2/jbd2.ko", "kernel/fs/ext4/ext4.ko",
                "kernel/drivers/virtio/virtio_pci_legacy_dev.ko", "kernel/drivers/virtio/virtio_pci_modern_dev.ko",
                "kernel/drivers/virtio/virtio_pci.ko", "kernel/arch/x86/crypto/crc32c-intel.ko",
            ])
    }

    @Test func builtinModulesAreSkippedAndUnknownOnesFail() throws {
        let deps = try ModuleDependencies(modulesDep: Self.modulesDep, modulesBuiltin: Self.builtin)
        #expect(try deps.loadOrder(for: ["af_packet", "crc16"]) == ["kernel/lib/crc16.ko"])
        let error = #expect(throws: NetbootError.self) { try deps.loadOrder(for: ["no_such_driver"]) }
        #expect(error?.code == .missingInput)
        #expect(error?.message.contains("no_such_driver") == true)
    }

    @Test func cyclesAndDanglingDependenciesAreErrors() throws {
        let cycle = try ModuleDependencies(modulesDep: "a.ko: b.ko\nb.ko: a.ko\n")
        #expect(throws: NetbootError.self) { try cycle.loadOrder(for: ["a"]) }
        let dangling = try ModuleDependencies(modulesDep: "a.ko: missing.ko\n")
        #expect(throws: NetbootError.self) { try dangling.loadOrder(for: ["a"]) }
        #expect(throws: NetbootError.self) { try ModuleDependencies(modulesDep: "no colon here\n") }
    }

    @Test(arguments: [
        ("kernel/arch/x86/crypto/crc32c-intel.ko", "crc32c_intel"),
        ("kernel/fs/ext4/ext4.ko", "ext4"),
        ("kernel/lib/crc64-rocksoft.ko.xz", "crc64_rocksoft"),
        ("kernel/drivers/scsi/sd_mod.ko.zst", "sd_mod"),
    ])
    func moduleNames(path: String, name: String) {
        #expect(ModuleDependencies.name(ofPath: path) == name)
    }

    @Test func trimmedIndexesNameOnlySelectedModules() throws {
        let deps = try ModuleDependencies(modulesDep: Self.modulesDep)
        let order = try deps.loadOrder(for: ["ext4"])
        #expect(
            deps.modulesDep(for: order) == """
                kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
                kernel/fs/jbd2/jbd2.ko:
                kernel/fs/mbcache.ko:
                kernel/lib/crc16.ko:

                """)
        let aliases =
            "alias fs-ext4 ext4\nalias pci:v00001AF4d* virtio_pci\nsoftdep ext4 pre: crc32c\n# comment\nalias crc-16 crc16\n"
        #expect(
            ModuleDependencies.filter(aliases: aliases, keeping: order)
                == "alias fs-ext4 ext4\nsoftdep ext4 pre: crc32c\nalias crc-16 crc16\n")
    }
}
