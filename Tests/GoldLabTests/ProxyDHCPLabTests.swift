import Foundation
import GoldHTTPClient
import GoldNetboot
import GoldPower
import GoldSpawn
import Testing

@testable import GoldLab

/// Issue 4's proxyDHCP proof with real firmware: a UEFI machine (OVMF, its own PXE) and a BIOS machine (SeaBIOS
/// with QEMU's iPXE ROM) netboot into Gold's netboot environment while a `dnsmasq` that only hands out addresses
/// is the segment's DHCP server and Gold's deploy role runs with `deploy.dhcp.mode: proxy`.
///
/// Needs root, the built `gold` (or GOLD_E2E_BINARY), a statically linked agent (GOLD_AGENT_BINARY or
/// `.build-agent/debug/gold-agent`, from scripts/build-agent.sh), Debian's kernel in /var/cache/gold/kernel and
/// the packages of scripts/setup.sh (qemu-system-x86, ovmf, ipxe-qemu, dnsmasq-base, busybox-static).
@Suite(.serialized) struct ProxyDHCPLabTests {
    static let uefi = LabMachineSpec(
        name: "pxy-uefi", mac: "52:54:00:79:00:01", bootMode: .uefi, disks: [.mib(64, .raw)],
        memoryMiB: 1024)
    static let bios = LabMachineSpec(
        name: "pxy-bios", mac: "52:54:00:79:00:02", bootMode: .bios, disks: [.mib(64, .raw)],
        memoryMiB: 1024)

    static var repo: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }
    static var goldBinary: String {
        if let given = ProcessInfo.processInfo.environment["GOLD_E2E_BINARY"] { return given }
        // The executables SwiftPM built sit beside the test binary (on Linux the main bundle is its directory).
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("gold").path,
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("gold")
                .path,
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("gold").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }
    static var agentBinary: String {
        ProcessInfo.processInfo.environment["GOLD_AGENT_BINARY"] ?? repo + "/.build-agent/debug/gold-agent"
    }

    @Test func uefiAndBIOSNetbootThroughGoldsProxyDHCPBesideDnsmasq() async throws {
        try #require(geteuid() == 0, "the proxyDHCP lab needs root (namespaces, bridge, taps, DHCP on port 67)")
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.goldBinary), "build gold first: \(Self.goldBinary)")
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.agentBinary),
            "no gold-agent at \(Self.agentBinary): run scripts/build-agent.sh or set GOLD_AGENT_BINARY")
        try #require(
            (try? Spawn.locate("dnsmasq")) != nil,
            "no dnsmasq: install the Debian package dnsmasq-base (scripts/setup.sh)")

        let directory = try temporaryDirectory("gold-pxy")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let lab = ProxyDHCPLab(directory: directory)
        let clock = ContinuousClock()
        let netboot = try await NetbootBuilder(agentBinary: Self.agentBinary, outputDir: "/var/cache/gold/netboot")
            .build()
        print(
            "netboot environment: kernel \(netboot.kernelVersion), initrd \(netboot.initrdSize >> 20) MiB (cached: \(netboot.cached))"
        )

        let machines = Lab(configuration: lab.configuration)
        var dnsmasq: Int32?
        do {
            let state = try await machines.up(machines: [Self.uefi, Self.bios])
            dnsmasq = try await lab.startDHCPServer()
            try await lab.initialiseGold(
                goldBinary: Self.goldBinary, kernel: netboot.kernelPath, initrd: netboot.initrdPath)
            // Recorded as each starts, so the lab's teardown stops them even when the next step fails.
            try await lab.startGold(goldBinary: Self.goldBinary) { try machines.recordGoldProcess($0) }

            try await lab.director(
                "POST", "/v1/fleet/apply?file=proxy-lab.yaml", body: Self.fleet, contentType: "application/yaml")
            for spec in [Self.uefi, Self.bios] {
                try await lab.director(
                    "PUT", "/v1/machines/\(spec.name)/next-boot", body: #"{"nextBoot": "once:discovery"}"#,
                    expect: 204)
            }
            // Gold's DHCP learns the fleet from the director; a MAC it does not know yet would be ignored.
            try await lab.waitForFile(lab.deployLog, containing: "machines=2", what: "Gold's DHCP fleet")

            let started = clock.now
            let boots = try await withThrowingTaskGroup(of: Boot.self) { group in
                for entry in state.machines {
                    group.addTask { try await Self.boot(entry.machine) }
                }
                return try await group.reduce(into: [Boot]()) { $0.append($1) }
            }
            print("both machines checked in \(clock.now - started) after power on")
            try await Self.checkEvidence(boots, lab: lab)
            for entry in state.machines { try? await entry.machine.powerDriver().powerOff() }
        } catch {
            Issue.record(error)
            print("director log:\n\(ProxyDHCPLab.read(lab.directorLog).suffix(2000))")
            print("deploy log:\n\(ProxyDHCPLab.read(lab.deployLog).suffix(4000))")
            print("dnsmasq log:\n\(ProxyDHCPLab.read(lab.dnsmasqLog).suffix(2000))")
        }

        // Everything the test made goes, whatever happened above.
        await lab.stopDHCPServer(pid: dnsmasq)
        let down = try await machines.down()
        print("cleanup: \(down)")
        if case .removed(_, let leftovers) = down { #expect(leftovers.isEmpty, "\(leftovers)") }
        let namespaces = try await lab.sh("ip", ["netns", "list"])
        #expect(!namespaces.contains(lab.labNamespace) && !namespaces.contains(lab.dhcpNamespace))
        #expect(
            try await Spawn.run("ip", ["link", "show", lab.configuration.uplink!.hostLink], timeout: .seconds(10))
                .exitCode != 0)
        #expect(
            Self.processesMentioning(directory).isEmpty,
            "processes left running: \(Self.processesMentioning(directory))")
    }

    /// What one machine's console showed, with the time of each step after power on.
    struct Boot: Sendable {
        var machine: LabMachine
        var steps: [(step: String, line: String, after: Duration)]
        var console: String
        /// The address the firmware (or iPXE) says it took.
        var firmwareAddress: String?
        /// The address the netboot environment's udhcpc took.
        var netbootAddress: String?
    }

    /// Powers the machine on and waits for each step of its network boot on the serial console.
    static func boot(_ machine: LabMachine) async throws -> Boot {
        let console = machine.console
        let name = machine.spec.name
        let hyphenated = machine.spec.effectiveMAC.replacingOccurrences(of: ":", with: "-")
        var steps: [(step: String, pattern: String)] =
            machine.spec.bootMode == .uefi
            ? [
                ("OVMF PXE", "Start PXE over IPv4"),
                ("OVMF address (from dnsmasq)", #"Station IP address is 10\.79\.0\.\d+"#),
                ("OVMF boot file (Gold's proxy offer)", #"NBP filename is ipxe\.efi"#),
                ("ipxe.efi over Gold's TFTP, running", "iPXE initialising devices"),
            ]
            : [
                ("SeaBIOS", #"SeaBIOS \(version"#),
                ("iPXE ROM", "iPXE initialising devices"),
            ]
        steps += [
            ("iPXE address (from dnsmasq)", #"net0: 10\.79\.0\.\d+/"#),
            (
                "iPXE boot file: Gold's script URL (proxy offer)",
                #"Filename: http://10\.79\.0\.1:8081/boot/ipxe\?mac="# + hyphenated
            ),
            ("Gold's script", #"Gold: netboot \(discovery\) for "# + name),
            ("netboot kernel running", "gold-netboot: starting on kernel"),
            ("netboot address (from dnsmasq)", #"gold-netboot: network up 10\.79\.0\.\d+"#),
            ("agent checked in", "gold-agent: checked in as " + name),
        ]
        let clock = ContinuousClock()
        var offset = console.currentOffset()
        try await machine.powerDriver().powerOn()
        let poweredOn = clock.now
        var seen: [(step: String, line: String, after: Duration)] = []
        for (step, pattern) in steps {
            // A wait for an event, not a limit on speed: TCG boots take tens of seconds, more with two at once.
            let match = try await console.waitFor(pattern, after: offset, deadline: .seconds(600))
            offset = match.endOffset
            seen.append((step, match.line, clock.now - poweredOn))
            print("\(name): \(step) after \(clock.now - poweredOn): \(match.line)")
        }
        func address(_ prefix: String) -> String? {
            seen.first { $0.step.hasPrefix(prefix) }?.line.firstMatch(of: /10\.79\.0\.\d+/).map { String($0.output) }
        }
        let text = String(decoding: FileManager.default.contents(atPath: machine.serialLog) ?? Data(), as: UTF8.self)
        let lines = SerialConsole.cleanLines(Data(text.utf8)).map(\.text)
        let network = #/PXE|Station IP|Server IP|NBP|iPXE|net0|Next server|Filename|http://|Gold:|gold-|Linux version/#
        print(
            "\(name): console (network boot lines):\n  "
                + lines.filter { $0.contains(network) }.joined(separator: "\n  "))
        return Boot(
            machine: machine, steps: seen, console: text,
            firmwareAddress: address(machine.spec.bootMode == .uefi ? "OVMF address" : "iPXE address"),
            netbootAddress: address("netboot address"))
    }

    /// dnsmasq gave every address; Gold gave none and answered only as proxyDHCP; the boot files came from Gold.
    static func checkEvidence(_ boots: [Boot], lab: ProxyDHCPLab) async throws {
        let leases = lab.dnsmasqLeases()
        let dnsmasqLog = ProxyDHCPLab.read(lab.dnsmasqLog)
        for boot in boots {
            let spec = boot.machine.spec
            let mac = spec.effectiveMAC
            let lease = leases[mac]
            print(
                "\(spec.name): dnsmasq lease \(lease ?? "none"); firmware took \(boot.firmwareAddress ?? "?"), netboot took \(boot.netbootAddress ?? "?")"
            )
            #expect(lease != nil, "dnsmasq has no lease for \(mac): \(leases)")
            #expect(boot.firmwareAddress == lease && boot.netbootAddress == lease)
            if let octet = lease?.split(separator: ".").last.flatMap({ Int($0) }) {
                #expect((ProxyDHCPLab.dnsmasqRange.first...ProxyDHCPLab.dnsmasqRange.last).contains(octet))
            }
            #expect(dnsmasqLog.contains("DHCPACK(\(lab.dhcpLink)) \(lease ?? "-") \(mac)"))

            // Gold's DHCP events, as the director recorded them for this machine.
            let events = try await Self.fetchEvents(lab, machine: spec.name)
            let dhcp = events.filter { ($0["protocolName"] as? String)?.hasPrefix("dhcp") == true }
            let summary = dhcp.map {
                "\($0["protocolName"] ?? "?") \($0["outcome"] ?? "?") \($0["file"] ?? "-") to \($0["address"] ?? "?")"
            }
            print("\(spec.name): Gold's DHCP events:\n  " + summary.joined(separator: "\n  "))
            #expect(!dhcp.isEmpty)
            #expect(dhcp.allSatisfy { $0["address"] as? String == "0.0.0.0" }, "Gold gave an address: \(summary)")
            #expect(dhcp.contains { $0["outcome"] as? String == "replied(DHCPOFFER)" }, "no proxy offer: \(summary)")
            #expect(
                dhcp.contains {
                    $0["protocolName"] as? String == "dhcp DHCPREQUEST" && $0["outcome"] as? String == "ignored"
                },
                "the address exchange was not left to dnsmasq: \(summary)")
            // The only DISCOVER not from a PXE client is the netboot environment's udhcpc: Gold stays silent to it.
            #expect(
                dhcp.contains {
                    $0["protocolName"] as? String == "dhcp DHCPDISCOVER" && $0["outcome"] as? String == "ignored"
                },
                "udhcpc was answered: \(summary)")
            let fetches = events.filter { !(($0["protocolName"] as? String)?.hasPrefix("dhcp") ?? true) }
            print(
                "\(spec.name): files from Gold:\n  "
                    + fetches.map {
                        "\($0["protocolName"] ?? "?") \($0["file"] ?? "?") \($0["outcome"] ?? "?") \($0["bytes"] ?? 0) bytes"
                    }.joined(separator: "\n  "))
            if spec.bootMode == .uefi {
                // The TFTP fetch carries only an address: it is this machine's because the 4011 request said so.
                #expect(
                    fetches.contains {
                        $0["protocolName"] as? String == "tftp" && $0["file"] as? String == "ipxe.efi"
                            && $0["outcome"] as? String == "completed"
                    }, "no TFTP ipxe.efi for \(spec.name)")
            }
            #expect(fetches.contains { $0["file"] as? String == "netboot/vmlinuz" })
            #expect(fetches.contains { $0["file"] as? String == "netboot/initrd.img" })

            // The check-in consumed the netboot-once.
            let record = try await lab.director("GET", "/v1/machines/\(spec.name)").body
            let nextBoot =
                (try JSONSerialization.jsonObject(with: Data(record)) as? [String: Any])?["nextBoot"] as? String
            #expect(nextBoot == "disk", "\(spec.name): next boot \(nextBoot ?? "?") after the check-in")
        }
        let deployLog = ProxyDHCPLab.read(lab.deployLog)
        let replies = deployLog.split(separator: "\n").filter { $0.contains("DHCP reply") }
        #expect(!replies.isEmpty && replies.allSatisfy { !$0.contains("address=") }, "\(replies)")
    }

    /// The `boot.fetch` events' data for one machine.
    static func fetchEvents(_ lab: ProxyDHCPLab, machine: String) async throws -> [[String: Any]] {
        // The deploy role reports in batches every 250 ms: let the last ones arrive.
        try await Task.sleep(for: .seconds(1))
        let body = try await lab.director("GET", "/v1/events?machine=\(machine)&limit=1000").body
        let events = try JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]] ?? []
        return events.filter { $0["kind"] as? String == "boot.fetch" }.compactMap { $0["data"] as? [String: Any] }
    }

    static var fleet: String {
        var text = "machines:\n"
        for spec in [uefi, bios] {
            let partitions =
                spec.bootMode == .uefi
                ? "[{size: 32MiB, fs: vfat, mount: /boot/efi}, {size: rest, fs: ext4, mount: /}]"
                : "[{size: rest, fs: ext4, mount: /}]"
            text += """
                  - name: \(spec.name)
                    macs: ["\(spec.effectiveMAC)"]
                    boot: \(spec.bootMode.rawValue)
                    disks:
                      - {device: /dev/vda, size: 64MiB, partitions: \(partitions)}
                    network: {hostname: \(spec.name)}

                """
        }
        return text
    }

    static func processesMentioning(_ text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            pid != getpid() && ProcessInfo.commandLine(pid)?.contains(text) == true
        }
    }
}
