import Foundation
import GoldCore
import Testing

let goodFleet = """
    profiles:
      web:
        role: web
        cpu: {march: x86-64-v3}
        disks:
          - device: /dev/vda
            size: 8GiB
            partitions:
              - {size: 512MiB, fs: vfat, mount: /boot/efi}
              - {size: rest, fs: ext4, mount: /}
        power: {driver: ipmi, address: "10.0.0.10:623", username: admin, password_file: /etc/gold/bmc.pass}
    machines:
      - name: web-01
        profile: web
        macs: ["52:54:00:aa:00:01", "52-54-00-AA-00-02"]
        network: {mode: static, address: 10.1.0.5/24, gateway: 10.1.0.1, dns: [10.1.0.1]}
        users:
          - {name: ops, groups: [sudo], keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyForTests ops@x"], sudo: "ALL=(ALL) NOPASSWD: ALL"}
        kernel: {source: "debian:linux-source-6.1", base: tinyconfig, fragments: [CONFIG_VIRTIO_BLK=y, "# CONFIG_MODULES is not set"]}
        binaries:
          - {name: hello, source: "dir:/srv/src/hello", build: ["make"], installs: [/usr/local/bin/hello], services: [hello]}
        checks: [{tcp: ":22"}, {http: "http://web-01/healthz"}]
      - name: web-02
        profile: web
        macs: ["52:54:00:aa:00:03"]
        cpu: {model: "EPYC", march: znver3}
        boot: bios
        disks:
          - device: /dev/sda
            size: 4GiB
            partitions:
              - {size: 1MiB, fs: none}
              - {size: rest, fs: ext4, mount: /}
    """

@Suite struct FleetParserTests {
    @Test func parsesAGoodFleetWithProfiles() throws {
        let fleet = try FleetParser.parse(yaml: goodFleet)
        #expect(fleet.profiles.map(\.name) == ["web"])
        #expect(fleet.machines.map(\.name) == ["web-01", "web-02"])
        let one = fleet.machines[0]
        #expect(one.role == "web")
        #expect(one.macs.map(\.description) == ["52:54:00:aa:00:01", "52:54:00:aa:00:02"])
        #expect(one.cpu.march == "x86-64-v3")
        #expect(one.boot == .uefi)
        #expect(one.disks[0].size == ByteSize(bytes: 8 << 30))
        #expect(one.disks[0].partitions[1].size == nil)
        #expect(one.network.address == "10.1.0.5/24")
        #expect(
            one.power
                == PowerSpec(
                    driver: .ipmi, address: "10.0.0.10:623", username: "admin", passwordFile: "/etc/gold/bmc.pass"))
        #expect(one.kernel?.fragments.count == 2)
        #expect(one.binaries[0].installs == ["/usr/local/bin/hello"])
        #expect(
            one.checks == [
                CheckSpec(kind: .tcp, target: ":22"), CheckSpec(kind: .http, target: "http://web-01/healthz"),
            ])
        // The machine's own mappings merge over the profile's field by field; lists replace.
        let two = fleet.machines[1]
        #expect(two.cpu == CPUSpec(model: "EPYC", march: "znver3"))
        #expect(two.boot == .bios)
        #expect(two.disks[0].device == "/dev/sda")
        #expect(two.role == "web")
    }

    /// Slow hardware is real: a profile sets deadlines, a machine overrides one of them.
    @Test func deadlinesMergeFromProfileToMachine() throws {
        let fleet = try FleetParser.parse(
            yaml: """
                profiles:
                  slow: {deadlines: {pxe: 4m, check_in: 15m, pxe_retries: 3}}
                machines:
                  - {name: a, profile: slow, macs: ["52:54:00:00:00:01"], deadlines: {pxe: 90s}}
                  - {name: b, macs: ["52:54:00:00:00:02"]}
                """)
        #expect(fleet.machines[0].deadlines == DeadlineSpec(pxe: 90, pxeRetries: 3, checkIn: 900))
        #expect(fleet.machines[1].deadlines == nil)
    }

    /// `gold kernel upgrade --kernel SPEC` takes the fleet's kernel mapping, with the fleet's rules.
    @Test func aKernelSpecOnTheCommandLine() throws {
        let spec = try FleetParser.parseKernel(
            yaml:
                "{source: debian:linux-source-6.1, base: tinyconfig, fragments: [CONFIG_EXT4_FS=y], localversion: -v2}",
            field: "--kernel")
        #expect(
            spec
                == KernelSpec(
                    source: "debian:linux-source-6.1", base: "tinyconfig", fragments: ["CONFIG_EXT4_FS=y"],
                    localVersion: "-v2"))
        for (yaml, expected) in [
            ("{source: debian:linux-source-6.1, fragments: [EXT4=y]}", "--kernel.fragments[0]"),
            ("{source: ftp://x, base: tinyconfig}", "--kernel.source"),
            ("{base: tinyconfig}", "missing required field 'source'"),
            ("{source: debian:linux-source-6.1, colour: red}", "colour"),
            ("[", "not valid YAML"),
        ] {
            do {
                _ = try FleetParser.parseKernel(yaml: yaml, field: "--kernel")
                Issue.record("accepted \(yaml)")
            } catch {
                #expect(error.description.contains(expected), "\(yaml): \(error.description)")
            }
        }
    }

    @Test func theSampleFleetIsValid() throws {
        let fleet = try FleetParser.parse(
            yaml: try String(
                contentsOfFile: #filePath.replacingOccurrences(
                    of: "Tests/GoldCoreTests/FleetParserTests.swift", with: "examples/fleet.yaml"), encoding: .utf8))
        #expect(fleet.machines.count == 2)
    }

    struct BadCase: CustomTestStringConvertible, Sendable {
        var name: String
        var yaml: String
        /// The text every reported problem list must contain, location included.
        var expected: [String]
        var testDescription: String { name }
    }

    static let bad: [BadCase] = [
        BadCase(
            name: "duplicate MAC",
            yaml: """
                machines:
                  - {name: a, macs: ["52:54:00:00:00:01"]}
                  - {name: b, macs: ["52:54:00:00:00:01"]}
                """,
            expected: ["fleet.yaml:3 machines[b].macs", "MAC 52:54:00:00:00:01 is already used by machine 'a'"]),
        BadCase(
            name: "layout larger than the disk",
            yaml: """
                machines:
                  - name: a
                    macs: ["52:54:00:00:00:01"]
                    boot: bios
                    disks:
                      - device: /dev/vda
                        size: 1GiB
                        partitions:
                          - {size: 800MiB, fs: ext4, mount: /}
                          - {size: 300MiB, fs: swap}
                """, expected: ["machines[a].disks[0].partitions", "the layout needs 1102MiB", "but the disk is 1GiB"]),
        BadCase(
            name: "mount point used twice",
            yaml: """
                machines:
                  - name: a
                    macs: ["52:54:00:00:00:01"]
                    boot: bios
                    disks:
                      - {device: /dev/vda, size: 4GiB, partitions: [{size: 1GiB, fs: ext4, mount: /}, {size: 1GiB, fs: ext4, mount: /var}]}
                      - {device: /dev/vdb, size: 4GiB, partitions: [{size: rest, fs: xfs, mount: /var}]}
                """,
            expected: [
                "machines[a].disks[1].partitions[0].mount",
                "mount point /var is already used by disks[0].partitions[1]",
            ]),
        BadCase(
            name: "unknown profile",
            yaml: """
                profiles:
                  web: {role: web}
                machines:
                  - {name: a, profile: db, macs: ["52:54:00:00:00:01"]}
                """, expected: ["fleet.yaml:4 machines[a].profile", "unknown profile 'db'; defined: web"]),
        BadCase(
            name: "unknown field",
            yaml: """
                machines:
                  - {name: a, macs: ["52:54:00:00:00:01"], dsks: []}
                """, expected: ["fleet.yaml:2 machines[a].dsks", "unknown field 'dsks'; allowed: name, profile"]),
        BadCase(
            name: "bad MAC",
            yaml: """
                machines:
                  - {name: a, macs: ["52:54:00:00:01"]}
                """, expected: ["machines[a].macs[0]", "'52:54:00:00:01' is not a MAC address"]),
        BadCase(
            name: "bad boot mode",
            yaml: """
                machines:
                  - {name: a, macs: ["52:54:00:00:00:01"], boot: efi}
                """, expected: ["fleet.yaml:2 machines[a].boot", "'efi' is not allowed; use one of: bios, uefi"]),
        BadCase(
            name: "bad size",
            yaml: """
                machines:
                  - name: a
                    macs: ["52:54:00:00:00:01"]
                    disks: [{device: /dev/vda, size: lots}]
                """, expected: ["machines[a].disks[0].size", "'lots' is not a size"]),
        BadCase(
            name: "size past UInt64 (crashed the director)",
            yaml: """
                machines:
                  - name: a
                    macs: ["52:54:00:00:00:01"]
                    disks: [{device: /dev/vda, size: 8GiB, partitions: [{size: 17000000000000000000, fs: ext4, mount: /}]}]
                """,
            expected: [
                "machines[a].disks[0].partitions[0].size", "'17000000000000000000' is not a size of at most 64PiB",
            ]),
        BadCase(
            name: "partitions summing past UInt64",
            yaml: """
                machines:
                  - name: a
                    macs: ["52:54:00:00:00:01"]
                    boot: bios
                    disks: [{device: /dev/vda, size: 65536TiB, partitions: [{size: 65536TiB, fs: ext4, mount: /}, {size: 65536TiB, fs: ext4, mount: /a}, {size: 65536TiB, fs: ext4, mount: /b}, {size: 65536TiB, fs: ext4, mount: /c}, {size: 65536TiB, fs: ext4, mount: /d}, {size: 65536TiB, fs: ext4, mount: /e}, {size: 65536TiB, fs: ext4, mount: /f}, {size: 65536TiB, fs: ext4, mount: /g}, {size: 65536TiB, fs: ext4, mount: /h}, {size: 65536TiB, fs: ext4, mount: /i}, {size: 65536TiB, fs: ext4, mount: /j}, {size: 65536TiB, fs: ext4, mount: /k}, {size: 65536TiB, fs: ext4, mount: /l}, {size: 65536TiB, fs: ext4, mount: /m}, {size: 65536TiB, fs: ext4, mount: /n}, {size: 65536TiB, fs: ext4, mount: /o}, {size: 65536TiB, fs: ext4, mount: /p}, {size: 65536TiB, fs: ext4, mount: /q}]}]
                """, expected: ["machines[a].disks[0].partitions", "but the disk is 65536TiB"]),
        BadCase(
            name: "deadline past Int (crashed the director)",
            yaml: """
                machines:
                  - {name: a, macs: ["52:54:00:00:00:01"], deadlines: {pxe: 9999999999999999h}}
                """, expected: ["machines[a].deadlines.pxe", "'9999999999999999h' is not a deadline"]),
        BadCase(
            name: "localversion with a newline (trapped the compile worker)",
            yaml: """
                machines:
                  - {name: a, macs: ["52:54:00:00:00:01"], kernel: {source: "debian:linux-source-6.1", localversion: "-a\\nb"}}
                """, expected: ["machines[a].kernel.localversion", "must be at most 64 letters"]),
        BadCase(
            name: "empty ipmi address (crashed the director at every restart)",
            yaml: """
                machines:
                  - {name: a, macs: ["52:54:00:00:00:01"], power: {driver: ipmi, address: "", username: u}}
                """, expected: ["machines[a].power.address", "is not a BMC address"]),
        BadCase(
            name: "ipmi port out of range",
            yaml: """
                machines:
                  - {name: a, macs: ["52:54:00:00:00:01"], power: {driver: ipmi, address: "bmc:99999", username: u}}
                """, expected: ["machines[a].power.address", "is not a BMC address"]),
        BadCase(
            name: "missing macs",
            yaml: """
                machines:
                  - {name: a}
                """, expected: ["machines[a].macs", "missing required field 'macs'"]),
        BadCase(
            name: "duplicate machine",
            yaml: """
                machines:
                  - {name: a, macs: ["52:54:00:00:00:01"]}
                  - {name: a, macs: ["52:54:00:00:00:02"]}
                """, expected: ["machine 'a' is defined more than once"]),
        BadCase(
            name: "rest not last",
            yaml: """
                machines:
                  - name: a
                    macs: ["52:54:00:00:00:01"]
                    boot: bios
                    disks: [{device: /dev/vda, size: 4GiB, partitions: [{size: rest, fs: ext4, mount: /}, {size: 1GiB, fs: swap}]}]
                """, expected: ["partitions[0].size", "only the last partition may take the rest"]),
        BadCase(
            name: "uefi without ESP",
            yaml: """
                machines:
                  - name: a
                    macs: ["52:54:00:00:00:01"]
                    disks: [{device: /dev/vda, size: 4GiB, partitions: [{size: rest, fs: ext4, mount: /}]}]
                """, expected: ["machines[a].disks", "a uefi machine needs a vfat partition mounted at /boot/efi"]),
        BadCase(
            name: "march native",
            yaml: """
                machines:
                  - {name: a, macs: ["52:54:00:00:00:01"], cpu: {march: native}}
                """, expected: ["machines[a].cpu.march", "'native' depends on the build host"]),
        BadCase(
            name: "static network without address",
            yaml: """
                machines:
                  - {name: a, macs: ["52:54:00:00:00:01"], network: {mode: static}}
                """, expected: ["machines[a].network.address", "static networking needs an address"]),
        BadCase(
            name: "bad kernel fragment",
            yaml: """
                machines:
                  - {name: a, macs: ["52:54:00:00:00:01"], kernel: {source: "debian:linux-source-6.1", fragments: [VIRTIO=y]}}
                """, expected: ["machines[a].kernel.fragments[0]", "'VIRTIO=y' is not a kernel option"]),
        BadCase(
            name: "bad ssh key",
            yaml: """
                machines:
                  - {name: a, macs: ["52:54:00:00:00:01"], users: [{name: ops, keys: ["hunter2"]}]}
                """, expected: ["machines[a].users[0].keys[0]", "not an ssh public key"]),
        BadCase(
            name: "ipmi without address",
            yaml: """
                machines:
                  - {name: a, macs: ["52:54:00:00:00:01"], power: {driver: ipmi, username: admin}}
                """, expected: ["machines[a].power.address", "the ipmi driver needs the BMC's address"]),
        BadCase(
            name: "bad deadline",
            yaml: """
                machines:
                  - {name: a, macs: ["52:54:00:00:00:01"], deadlines: {pxe: soon}}
                """, expected: ["machines[a].deadlines.pxe", "'soon' is not a deadline"]),
        BadCase(
            name: "unknown deadline",
            yaml: """
                machines:
                  - {name: a, macs: ["52:54:00:00:00:01"], deadlines: {post: 60}}
                """, expected: ["machines[a].deadlines", "pxe, pxe_retries, check_in"]),
        BadCase(
            name: "pxe deadline past check-in",
            yaml: """
                machines:
                  - {name: a, macs: ["52:54:00:00:00:01"], deadlines: {pxe: 10m, check_in: 5m}}
                """, expected: ["machines[a].deadlines.pxe", "must not be longer than check_in"]),
        BadCase(name: "not YAML", yaml: "machines: [\n", expected: ["fleet.yaml: not valid YAML"]),
        BadCase(name: "empty file", yaml: "", expected: ["the file is empty"]),
        BadCase(
            name: "machines not a list", yaml: "machines: {a: 1}\n",
            expected: ["fleet.yaml:1 machines", "expected a list"]),
        BadCase(
            name: "bad machine name",
            yaml: """
                machines:
                  - {name: Web_01, macs: ["52:54:00:00:00:01"]}
                """, expected: ["machine name 'Web_01' must be 1-63 lowercase letters"]),
    ]

    @Test(arguments: bad)
    func badFilesAreRejectedWithTheirLocation(_ c: BadCase) {
        do {
            _ = try FleetParser.parse(yaml: c.yaml)
            Issue.record("\(c.name) was accepted")
        } catch {
            let text = error.description
            for expected in c.expected {
                #expect(text.contains(expected), "\(c.name): expected '\(expected)' in: \(text)")
            }
        }
    }

    @Test func everyProblemIsReportedAtOnce() {
        let yaml = """
            machines:
              - {name: a, macs: ["nope"], boot: efi}
              - {name: b, macs: ["52:54:00:00:00:01"], cpu: {march: native}}
            """
        do {
            _ = try FleetParser.parse(yaml: yaml)
            Issue.record("accepted")
        } catch {
            #expect(error.problems.count == 3)
        }
    }

    /// A typo in a profile is one problem, at the profile's line, however many machines use the profile.
    @Test func aProfileTypoIsReportedOnce() {
        let yaml = """
            profiles:
              web:
                disks: [{device: /dev/vda, size: lots}]
            machines:
              - {name: a, profile: web, macs: ["52:54:00:00:00:01"]}
              - {name: b, profile: web, macs: ["52:54:00:00:00:02"]}
              - {name: c, profile: web, macs: ["52:54:00:00:00:03"]}
            """
        do {
            _ = try FleetParser.parse(yaml: yaml)
            Issue.record("accepted")
        } catch {
            let sizes = error.problems.filter { $0.message.contains("'lots'") }
            #expect(sizes.count == 1)
            #expect(sizes.first?.location?.hasPrefix("fleet.yaml:3 ") == true)
            #expect(
                sizes.first?.message.contains("also used by machines[b].disks[0].size, machines[c].disks[0].size")
                    == true)
        }
    }
}
