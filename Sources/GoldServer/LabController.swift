import Foundation
import GoldCore
import GoldDoctor
import GoldHTTPClient
import GoldLab
import GoldNetboot
import GoldSpawn
import Logging

/// `gold lab up|down`: a lab of QEMU machines with Gold's servers running inside it, reachable from the host.
///
/// Layout: the namespace's bridge `goldbr0` (10.77.0.1/24) carries DHCP, TFTP and HTTP boot; a veth from the host
/// (10.77.255.1 on the host ↔ 10.77.255.2 in the lab) joins them. The director and compile roles run on the host,
/// at http://10.77.255.1:8080 (image builds need Debian's mirror); only the deploy role runs inside the namespace.
public struct LabController: Sendable {
    public let stateDirectory: String
    public let logger: Logger

    public init(stateDirectory: String, logger: Logger) {
        self.stateDirectory = stateDirectory
        self.logger = logger
    }

    public var configuration: LabConfiguration {
        LabConfiguration(stateDirectory: stateDirectory, uplink: .init())
    }
    public var lab: Lab { Lab(configuration: configuration, logger: logger) }
    public var dataDir: String { stateDirectory + "/gold" }
    /// The director runs on the host (it builds images from Debian's mirror); the lab reaches it over the veth.
    public var directorURL: String {
        "http://\(String(configuration.uplink!.hostAddress.split(separator: "/")[0])):8080"
    }
    public var tokenFile: String { dataDir + "/admin.token" }
    /// A file to `source`: the lab's director, its token and the `gold` that made the lab on PATH.
    public var environmentFile: String { stateDirectory + "/env" }

    /// What `environmentFile` holds: commands that work when pasted into a root shell.
    func environmentScript(goldBinary: String) -> String {
        let bin = (goldBinary as NSString).deletingLastPathComponent
        return """
            # Written by gold lab up. Use the lab's director from a shell:  . \(environmentFile)
            export GOLD_DIRECTOR=\(directorURL)
            export GOLD_TOKEN_FILE=\(tokenFile)
            case ":$PATH:" in *":\(bin):"*) ;; *) export PATH="\(bin):$PATH" ;; esac

            """
    }

    /// The lab's machines: UEFI and BIOS in turn, each with one 2 GiB disk.
    public static func machines(_ count: Int) -> [LabMachineSpec] {
        (0..<count).map { index in
            let uefi = index % 2 == 0
            let name = "lab-\(uefi ? "uefi" : "bios")-\(String(format: "%02d", index / 2 + 1))"
            return LabMachineSpec(
                name: name, mac: String(format: "52:54:00:77:00:%02x", index + 1), bootMode: uefi ? .uefi : .bios,
                disks: [.mib(2048, .raw)], memoryMiB: 1024)
        }
    }

    public struct UpResult: Sendable {
        public var machines: [String]
        public var directorURL: String
        public var tokenFile: String
        public var environmentFile: String
        public var netbootKernel: String
    }

    /// Brings the lab up with Gold inside it: machines, network, netboot files, Gold's servers, the fleet applied.
    public func up(count: Int, goldBinary: String, agentBinary: String, progress: @Sendable (String) -> Void)
        async throws -> UpResult
    {
        guard count >= 1 && count <= 32 else {
            throw GoldError(.invalidInput, "the lab has 1 to 32 machines", at: "--machines")
        }
        guard FileManager.default.isExecutableFile(atPath: agentBinary) else {
            throw GoldError(
                .notFound, "no gold-agent binary; build it with scripts/build-agent.sh (statically linked)",
                at: agentBinary)
        }
        // Every role runs here: one message naming everything missing, before the netboot build or a kernel compile.
        if let refusal = Doctor.examine([.director, .deploy, .compile, .lab], probe: LocalHostProbe()).refusal {
            throw GoldError(.unavailable, refusal)
        }
        progress("building the netboot environment (kernel + initramfs with gold-agent)")
        let netboot = try await NetbootBuilder(
            agentBinary: agentBinary, outputDir: "/var/cache/gold/netboot", logger: logger
        ).build()

        progress("creating the lab: namespace, bridge, \(count) QEMU machines")
        let state = try await lab.up(machines: Self.machines(count))
        do {
            progress("initialising Gold in \(dataDir)")
            _ = try await Initializer.run(dataDir: dataDir)
            try labConfig().write(toFile: dataDir + "/gold.yaml", atomically: true, encoding: .utf8)
            // Images carry the same statically linked agent.
            try FileManager.default.createDirectory(atPath: dataDir + "/agent", withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: dataDir + "/agent/gold-agent")
            try FileManager.default.copyItem(atPath: agentBinary, toPath: dataDir + "/agent/gold-agent")
            let files = dataDir + "/boot/files/netboot"
            try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
            for (source, name) in [(netboot.kernelPath, "vmlinuz"), (netboot.initrdPath, "initrd.img")] {
                try? FileManager.default.removeItem(atPath: files + "/" + name)
                try FileManager.default.copyItem(atPath: source, toPath: files + "/" + name)
            }

            progress("starting Gold: director and compile roles on the host, the deploy role inside the lab")
            let director = try Spawn.daemon(
                goldBinary, ["serve", "--config", dataDir + "/gold.yaml", "--roles", "director,compile"],
                log: stateDirectory + "/gold.log")
            try lab.recordGoldProcess(director)
            try await waitForDirector()
            let deploy = try Spawn.daemon(
                "ip",
                [
                    "netns", "exec", configuration.namespace, goldBinary, "serve", "--config", dataDir + "/gold.yaml",
                    "--roles", "deploy",
                ], log: stateDirectory + "/gold-deploy.log")
            try lab.recordGoldProcess(deploy)

            progress("applying the lab's fleet (sample service source in \(softwareDirectory))")
            try LabSoftware.write(to: softwareDirectory)
            try await applyFleet(profiles: [:])
            try environmentScript(goldBinary: goldBinary).write(
                toFile: environmentFile, atomically: true, encoding: .utf8)
        } catch {
            logger.error("lab up failed; tearing it down", metadata: ["error": "\(error)"])
            _ = try? await down()
            throw error
        }
        return UpResult(
            machines: state.machines.map(\.machine.spec.name), directorURL: directorURL, tokenFile: tokenFile,
            environmentFile: environmentFile, netbootKernel: netboot.kernelVersion)
    }

    /// Stops the lab's director — with SIGKILL when `kill`, as a crash would — and starts it again as `up` did.
    public func restartDirector(kill: Bool, goldBinary: String) async throws -> (stopped: Int32?, started: Int32) {
        let stopped = try await lab.stopGoldProcess(matching: "--roles director", hard: kill)
        let director = try Spawn.daemon(
            goldBinary, ["serve", "--config", dataDir + "/gold.yaml", "--roles", "director,compile"],
            log: stateDirectory + "/gold.log")
        try lab.recordGoldProcess(director)
        try await waitForDirector()
        return (stopped, director)
    }

    /// Removes the lab and Gold's data for it (store, images, logs); caches under /var/cache/gold stay.
    public func down() async throws -> Lab.DownResult {
        let result = try await lab.down()
        guard case .removed(var removed, let leftovers) = result else { return result }
        for path in [
            dataDir, stateDirectory + "/gold.log", stateDirectory + "/gold-deploy.log", stateDirectory + "/fleet.yaml",
            stateDirectory + "/src", environmentFile,
        ] where FileManager.default.fileExists(atPath: path) {
            try FileManager.default.removeItem(atPath: path)
            removed.append(path)
        }
        return .removed(removed, leftovers: leftovers)
    }

    func waitForDirector() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let response = try? await HTTPClient.send("GET", directorURL + "/healthz", timeout: .seconds(2)),
                response.status == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let log = (try? String(contentsOfFile: stateDirectory + "/gold.log", encoding: .utf8)) ?? ""
        throw GoldError(
            .unavailable, "Gold's servers did not come up in the lab; log:\n\(log.suffix(2000))",
            at: stateDirectory + "/gold.log")
    }

    /// Gold inside the lab: the director on the veth, boot servers and full DHCP on the bridge.
    func labConfig() -> String {
        """
        # Written by gold lab up.
        data_dir: \(dataDir)
        roles: [director, deploy, compile]
        log_level: info
        director:
          listen: \(String(configuration.uplink!.hostAddress.split(separator: "/")[0])):8080
          store: sqlite
        deploy:
          director: \(directorURL)
          http: 10.77.0.1:8081
          tftp: 10.77.0.1:69
          public_url: http://10.77.0.1:8081
          dhcp:
            mode: full
            interface: \(configuration.bridge)
            server_address: 10.77.0.1
            subnet_mask: 255.255.255.0
            router: 10.77.0.1
            dns: [10.77.0.1]
            pool: 10.77.0.100-10.77.0.199
        compile:
          director: \(directorURL)

        """
    }

    /// Where the lab's sample software's source lives (`gold update` rebuilds it from there).
    public var softwareDirectory: String { stateDirectory + "/src/hello" }

    /// The fleet file for the lab's machines: their MACs, firmware, disks and QMP power, a static address each, the
    /// sample service `hello` compiled for each. `profiles` names a machine's profile when it is not `lab`: `lab-kernel`
    /// runs a kernel the compile role builds, `lab-kernel-panics` one built without its root filesystem's driver.
    public static func fleetYAML(_ state: LabState, softwareDirectory: String, profiles: [String: String] = [:])
        -> String
    {
        func kernel(_ fragments: [String], localVersion: String) -> String {
            let lines = fragments.map { "      - '\($0.replacingOccurrences(of: "'", with: "''"))'" }.joined(
                separator: "\n")
            return """
                    kernel:
                      source: "debian:linux-source-6.1"
                      base: tinyconfig
                      localversion: "\(localVersion)"
                      fragments:
                \(lines)
                """
        }
        let common = """
                cpu: {model: "QEMU TCG", march: x86-64}
                users:
                  - name: ops
                    groups: [sudo]
                    keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGoldLabDemoKeyNotForProductionUseXXXXXXXXX ops@gold-lab"]
                    sudo: "ALL=(ALL) NOPASSWD: ALL"
                binaries:
                  - name: hello
                    source: "dir:\(softwareDirectory)"
                    build:
            \(LabSoftware.build.map { "          - '\($0)'" }.joined(separator: "\n"))
                    installs: [/usr/local/bin/hello]
                    services: [hello]
                services: [hello]
                checks:
                  - command: "/usr/local/bin/hello --check"
                  - tcp: ":\(LabSoftware.port)"

            """
        var text = """
            # Written by gold lab up: the lab's QEMU machines.
            profiles:
              lab:
                role: lab
                kernel: {source: "package:linux-image-amd64"}
            \(common)
              lab-kernel:
                role: lab
            \(kernel(LabKernels.lab, localVersion: "-gold-lab"))
            \(common)
              lab-kernel-panics:
                role: lab
            \(kernel(LabKernels.panics, localVersion: "-gold-panics"))
            \(common)
            machines:

            """
        for (index, entry) in state.machines.enumerated() {
            let machine = entry.machine
            let disk = machine.spec.disks[0]
            let partitions =
                machine.spec.bootMode == .uefi
                ? "[{size: 256MiB, fs: vfat, mount: /boot/efi}, {size: rest, fs: ext4, mount: /}]"
                : "[{size: rest, fs: ext4, mount: /}]"
            text += """
                  - name: \(machine.spec.name)
                    profile: \(profiles[machine.spec.name] ?? "lab")
                    macs: ["\(machine.spec.effectiveMAC)"]
                    boot: \(machine.spec.bootMode == .uefi ? "uefi" : "bios")
                    disks:
                      - {device: /dev/vda, size: \(disk.sizeBytes >> 20)MiB, partitions: \(partitions)}
                    network: {hostname: \(machine.spec.name), mode: static, address: 10.77.0.\(11 + index)/24, gateway: 10.77.0.1, dns: [10.77.0.1]}
                    power: {driver: qemu, address: "\(machine.qmpSocket)"}

                """
        }
        return text
    }

    /// Rewrites the lab's fleet file with these profile choices and applies it.
    public func applyFleet(profiles: [String: String]) async throws {
        guard let state = try lab.current() else { throw GoldError(.notFound, "no lab is up", at: stateDirectory) }
        let fleetFile = stateDirectory + "/fleet.yaml"
        try Self.fleetYAML(state, softwareDirectory: softwareDirectory, profiles: profiles).write(
            toFile: fleetFile, atomically: true, encoding: .utf8)
        let token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        let response = try await HTTPClient.send(
            "POST", directorURL + "/v1/fleet/apply?file=\(fleetFile)",
            headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/yaml")],
            body: Array(try String(contentsOfFile: fleetFile, encoding: .utf8).utf8))
        guard response.status == 200 else {
            throw GoldError(.internalError, "applying the lab's fleet failed: \(response.text)")
        }
    }
}
