import Foundation
import GoldPower
import Testing

@testable import GoldLab

func temporaryDirectory(_ prefix: String) throws -> String {
    let path = NSTemporaryDirectory() + prefix + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct LabMachineTests {
    let bios = LabMachine(
        spec: LabMachineSpec(name: "b1", mac: "52:54:00:AA:00:01", bootMode: .bios, disks: [.mib(64), .mib(32, .raw)]),
        directory: "/lab/machines/b1", tap: "gtap0")
    let uefi = LabMachine(
        spec: LabMachineSpec(name: "u1", bootMode: .uefi), directory: "/lab/machines/u1", tap: "gtap1")

    @Test func biosUsesSeaBIOSWithIPXEAndSerialConsole() {
        let args = bios.qemuArguments(accelerator: .tcg).joined(separator: " ")
        #expect(args.contains("-machine pc -accel tcg"))
        #expect(args.contains("-fw_cfg name=etc/sercon-port,file=/lab/machines/b1/sercon-port.bin"))
        #expect(
            args.contains(
                "virtio-net-pci,id=nic0,netdev=net0,mac=52:54:00:aa:00:01,bootindex=1 "
            ))
        #expect(args.contains("-drive file=/lab/machines/b1/disk0.qcow2,format=qcow2,if=none,id=drive0"))
        #expect(args.contains("virtio-blk-pci,drive=drive1,id=disk1,bootindex=11"))
        #expect(args.contains("-S -no-shutdown -daemonize -pidfile /lab/machines/b1/qemu.pid"))
        #expect(!args.contains("pflash") && !args.contains("romfile"))
    }

    @Test func uefiUsesOVMFWithItsOwnVarsAndNativePXE() {
        let args = uefi.qemuArguments(accelerator: .kvm).joined(separator: " ")
        #expect(args.contains("-machine q35 -accel kvm -cpu host"))
        #expect(args.contains("if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd"))
        #expect(args.contains("if=pflash,format=raw,file=/lab/machines/u1/OVMF_VARS_4M.fd"))
        #expect(args.contains(",bootindex=1,romfile= "))
        #expect(!args.contains("sercon"))
    }

    @Test func macIsDerivedStablyFromTheName() {
        let a = LabMachineSpec(name: "node-a", bootMode: .bios).effectiveMAC
        #expect(a == LabMachineSpec(name: "node-a", bootMode: .uefi).effectiveMAC)
        #expect(a != LabMachineSpec(name: "node-b", bootMode: .bios).effectiveMAC)
        #expect(a.hasPrefix("52:54:00:") && a.count == 17)
    }

    @Test func fleetEntryDescribesDisksAndPower() {
        let entry = bios.fleetEntry
        #expect(entry.name == "b1" && entry.mac == "52:54:00:aa:00:01" && entry.bootMode == .bios)
        #expect(entry.disks == [.init(device: "vda", sizeBytes: 64 << 20), .init(device: "vdb", sizeBytes: 32 << 20)])
        #expect(
            entry.power.qmpSocket == "/lab/machines/b1/qmp.sock" && entry.power.diskDeviceIDs == ["disk0", "disk1"])
    }
}

@Suite struct LabLifecycleMessageTests {
    @Test func downWithNothingUpSaysSoAndChangesNothing() async throws {
        let dir = try temporaryDirectory("gold-lab-unit")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "keep".write(toFile: dir + "/other-file", atomically: true, encoding: .utf8)
        let lab = Lab(configuration: LabConfiguration(namespace: "gold-never-made", stateDirectory: dir))
        let result = try await lab.down()
        guard case .nothingUp(let message) = result else {
            Issue.record("expected nothingUp, got \(result)")
            return
        }
        #expect(message.contains("no lab is up") && message.contains(dir + "/lab.json"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["other-file"])
    }

    @Test func upWhenAStateFileExistsRefusesWithoutTouchingIt() async throws {
        let dir = try temporaryDirectory("gold-lab-unit")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = LabConfiguration(namespace: "gold-existing", stateDirectory: dir)
        var state = LabState(configuration: config)
        state.machines = [
            .init(machine: LabMachine(spec: .init(name: "m1", bootMode: .bios), directory: dir, tap: "t"))
        ]
        try state.save()
        let before = try Data(contentsOf: URL(fileURLWithPath: config.stateFile))
        let error = try await #require(throws: LabError.self) {
            try await Lab(configuration: config).up(machines: [.init(name: "x", bootMode: .bios)])
        }
        #expect(error.code == .alreadyUp)
        #expect(
            error.message.contains("gold-existing") && error.message.contains("m1") && error.message.contains("down"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: config.stateFile)) == before)
    }

    @Test(arguments: [
        ([LabMachineSpec(name: "a", bootMode: .bios), .init(name: "a", bootMode: .uefi)], "duplicate machine name: a"),
        (
            [
                LabMachineSpec(name: "a", mac: "52:54:00:00:00:01", bootMode: .bios),
                .init(name: "b", mac: "52:54:00:00:00:01", bootMode: .bios),
            ], "duplicate machine MAC"
        ),
        ([LabMachineSpec(name: "a b", bootMode: .bios)], "machine name \"a b\""),
        ([LabMachineSpec(name: "a", bootMode: .bios, disks: [])], "has no disk"),
        ([LabMachineSpec(name: "a", mac: "52:54:00:zz:00:01", bootMode: .bios)], "is not xx:xx"),
        ([], "no machines"),
    ])
    func invalidSpecsAreRejectedBeforeAnythingIsMade(specs: [LabMachineSpec], fragment: String) async throws {
        let dir = try temporaryDirectory("gold-lab-unit")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let error = try await #require(throws: LabError.self) {
            try await Lab(configuration: LabConfiguration(namespace: "gold-invalid", stateDirectory: dir)).up(
                machines: specs)
        }
        #expect(error.code == .invalidSpec)
        #expect(error.message.contains(fragment))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }
}

@Suite struct SerialConsoleTests {
    /// The start of a real SeaBIOS + iPXE serial log (QEMU 7.2, `-serial file:`), escape sequences included.
    static let seabiosLog = Data(
        "\u{1b}c\u{1b}[?7l\u{1b}[2J\u{1b}[0mSeaBIOS (version 1.16.2-debian-1.16.2-1)\r\n\r\n\r\niPXE (http://ipxe.org) 00:04.0 CA00 PCI2.10 PnP PMM+1EFCF080+1EF0F080 CA00\r\nPress Ctrl-B to configure iPXE (PCI 00:04.0)...\r                                                                               \r\n\r\n\r\nBooting from ROM...\r\niPXE (PCI 00:04.0) starting execution...ok\r\n\u{1b}[0;1miPXE 1.0.0+git-20190125.36a4c85-5.1\u{1b}[0m -- Open Source Network Boot Firmware -- \u{1b}[0;36mhttp\r\nPress Ctrl-B for the iPXE command line...\u{08} \u{08}\u{08} \u{08}net0: 52:54:00:77:00:10 using virtio-net on 0000:00:04.0 (open)\r\n"
            .utf8)

    @Test func cleansEscapesBackspacesAndCarriageReturns() {
        let lines = SerialConsole.cleanLines(Self.seabiosLog).map(\.text)
        #expect(lines.first == "SeaBIOS (version 1.16.2-debian-1.16.2-1)")
        #expect(lines.contains("Booting from ROM..."))
        #expect(lines.contains("iPXE 1.0.0+git-20190125.36a4c85-5.1 -- Open Source Network Boot Firmware -- http"))
        // iPXE erases its countdown dots with backspaces; the cleaned line shows what a terminal would.
        #expect(
            lines.contains(
                "Press Ctrl-B for the iPXE command line.net0: 52:54:00:77:00:10 using virtio-net on 0000:00:04.0 (open)"
            ))
    }

    @Test func waitFindsALineAfterAnOffsetAndTimesOutWithTheTail() async throws {
        let dir = try temporaryDirectory("gold-serial")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/serial.log"
        try Self.seabiosLog.write(to: URL(fileURLWithPath: path))
        let console = SerialConsole(path: path, machine: "b1")
        let first = try await console.waitFor("Booting from (ROM|Hard Disk)", deadline: .seconds(1))
        #expect(first.line == "Booting from ROM...")
        let timeout = try await #require(throws: SerialConsole.Timeout.self) {
            _ = try await console.waitFor("Booting from", after: first.endOffset, deadline: .milliseconds(300))
        }
        #expect(timeout.machine == "b1" && timeout.tail.contains("using virtio-net"))
        #expect(timeout.description.contains("/Booting from/"))
    }
}

@Suite struct LabSegmentTests {
    @Test func theMachinesSegmentIsTheGatewaysNetwork() {
        #expect(LabNetwork.network(of: "10.77.0.1/24") == "10.77.0.0/24")
        #expect(LabNetwork.network(of: "192.168.7.130/25") == "192.168.7.128/25")
        #expect(LabNetwork.network(of: "10.77.0.1") == nil)
        #expect(LabNetwork.network(of: "10.77.0.300/24") == nil)
    }
}
