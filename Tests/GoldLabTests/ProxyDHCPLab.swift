import Foundation
import GoldHTTPClient
import GoldLab
import GoldSpawn

/// A lab network of its own for the proxyDHCP proof: the lab namespace `gold-pxy-PID` with bridge `gpxybr0`
/// (Gold at 10.79.0.1) and an uplink from the host (10.79.255.1 ↔ .2), plus the network's own DHCP server — a
/// `dnsmasq` that only hands out addresses — in a second namespace whose veth is plugged into the same bridge, as
/// another host on the segment would be (it cannot share the lab namespace: both it and Gold listen on UDP 67).
///
/// Every name carries the test's pid; nothing is shared with `gold lab` (`gold-lab`, `goldbr0`, 10.77.0.0/16).
struct ProxyDHCPLab {
    let directory: String
    let pid = getpid()
    var labNamespace: String { "gold-pxy-\(pid)" }
    var dhcpNamespace: String { "gold-pxy-\(pid)-dhcp" }
    let bridge = "gpxybr0"
    /// The veth into the DHCP server's namespace: one end on the bridge, the other with dnsmasq's address.
    let dhcpBridgePort = "gpxy-dl"
    let dhcpLink = "gpxy-dd"
    static let gold = "10.79.0.1"
    static let dnsmasqAddress = "10.79.0.2"
    static let dnsmasqRange = (first: 100, last: 149)
    static let directorListen = "10.79.255.1:18079"
    var directorURL: String { "http://\(Self.directorListen)" }
    var deployURL: String { "http://\(Self.gold):8081" }
    var dataDir: String { directory + "/gold" }
    var leaseFile: String { directory + "/dnsmasq.leases" }
    var dnsmasqLog: String { directory + "/dnsmasq.log" }
    var directorLog: String { directory + "/director.log" }
    var deployLog: String { directory + "/deploy.log" }

    var configuration: LabConfiguration {
        LabConfiguration(
            namespace: labNamespace, bridge: bridge, gatewayAddress: "\(Self.gold)/24",
            stateDirectory: directory + "/lab",
            accelerator: .tcg,
            uplink: .init(
                hostLink: "gpxy\(pid % 100_000)h", labLink: "gpxy\(pid % 100_000)n", hostAddress: "10.79.255.1/30",
                labAddress: "10.79.255.2/30"))
    }

    /// dnsmasq with DHCP only: no DNS (`--port=0`), no TFTP, no boot options; its own lease file and log.
    var dnsmasqArguments: [String] {
        [
            "--keep-in-foreground", "--conf-file=/dev/null", "--port=0", "--interface=\(dhcpLink)", "--bind-interfaces",
            "--dhcp-range=10.79.0.\(Self.dnsmasqRange.first),10.79.0.\(Self.dnsmasqRange.last),255.255.255.0,10m",
            "--dhcp-leasefile=\(leaseFile)", "--pid-file=\(directory)/dnsmasq.pid", "--log-dhcp",
            "--log-facility=\(dnsmasqLog)", "--user=root", "--group=root",
        ]
    }

    /// Gold's configuration: the director on the host's end of the uplink, the deploy role on the bridge with proxyDHCP.
    var goldConfig: String {
        """
        data_dir: \(dataDir)
        roles: [director, deploy]
        log_level: info
        director:
          listen: \(Self.directorListen)
          store: sqlite
        deploy:
          director: \(directorURL)
          http: \(Self.gold):8081
          tftp: \(Self.gold):69
          public_url: \(deployURL)
          dhcp:
            mode: proxy
            interface: \(bridge)
            server_address: \(Self.gold)
        compile:
          director: \(directorURL)

        """
    }

    /// Plugs a second namespace into the bridge and starts dnsmasq there; returns dnsmasq's pid.
    func startDHCPServer() async throws -> Int32 {
        try await sh("ip", ["netns", "add", dhcpNamespace])
        try await sh("ip", ["-n", dhcpNamespace, "link", "set", "lo", "up"])
        try await sh(
            "ip",
            [
                "-n", labNamespace, "link", "add", dhcpBridgePort, "type", "veth", "peer", "name", dhcpLink,
                "netns", dhcpNamespace,
            ])
        try await sh("ip", ["-n", labNamespace, "link", "set", dhcpBridgePort, "master", bridge])
        try await sh("ip", ["-n", labNamespace, "link", "set", dhcpBridgePort, "up"])
        try await sh("ip", ["-n", dhcpNamespace, "addr", "add", "\(Self.dnsmasqAddress)/24", "dev", dhcpLink])
        try await sh("ip", ["-n", dhcpNamespace, "link", "set", dhcpLink, "up"])
        let pid = try Spawn.daemon(
            "ip", ["netns", "exec", dhcpNamespace, "dnsmasq"] + dnsmasqArguments,
            log: directory + "/dnsmasq.out")
        try await waitForFile(
            dnsmasqLog, containing: "DHCP, IP range 10.79.0.\(Self.dnsmasqRange.first)", what: "dnsmasq")
        return pid
    }

    /// Stops dnsmasq and removes its namespace (and with it both ends of its veth). Safe to repeat.
    func stopDHCPServer(pid: Int32?) async {
        if let pid, ProcessInfo.commandLine(pid)?.contains("dnsmasq") == true {
            kill(pid, SIGTERM)
            for _ in 0..<100 where ProcessInfo.commandLine(pid) != nil { try? await Task.sleep(for: .milliseconds(50)) }
            if ProcessInfo.commandLine(pid) != nil { kill(pid, SIGKILL) }
        }
        _ = try? await Spawn.run("ip", ["netns", "del", dhcpNamespace], timeout: .seconds(15))
    }

    /// `gold init`, the configuration above and the netboot files where the deploy role serves them.
    func initialiseGold(goldBinary: String, kernel: String, initrd: String) async throws {
        let result = try await Spawn.run(goldBinary, ["init", "--data-dir", dataDir], timeout: .seconds(60))
        guard result.exitCode == 0 else { throw SpawnError("gold init: \(result.output)") }
        try goldConfig.write(toFile: dataDir + "/gold.yaml", atomically: true, encoding: .utf8)
        let files = dataDir + "/boot/files/netboot"
        try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
        for (source, name) in [(kernel, "vmlinuz"), (initrd, "initrd.img")] {
            try FileManager.default.copyItem(atPath: source, toPath: files + "/" + name)
        }
    }

    /// The director on the host, then the deploy role inside the lab namespace; `started` gets each pid at once.
    func startGold(goldBinary: String, started: (Int32) throws -> Void) async throws {
        let config = dataDir + "/gold.yaml"
        try started(
            try Spawn.daemon(goldBinary, ["serve", "--config", config, "--roles", "director"], log: directorLog))
        try await waitForHealth(directorURL, log: directorLog)
        try started(
            try Spawn.daemon(
                "ip",
                [
                    "netns", "exec", labNamespace, goldBinary, "serve", "--config", config,
                    "--roles", "deploy",
                ], log: deployLog))
        try await waitForHealth(deployURL, log: deployLog)
        try await waitForFile(deployLog, containing: "DHCP server listening", what: "Gold's DHCP")
    }

    var adminToken: String {
        get throws {
            try String(contentsOfFile: dataDir + "/admin.token", encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines)
        }
    }

    /// One request to the director with the admin token; throws unless it answers `expect`.
    @discardableResult
    func director(
        _ method: String, _ path: String, body: String? = nil, contentType: String = "application/json",
        expect: Int = 200
    ) async throws -> HTTPClientResponse {
        var headers = [("Authorization", "Bearer \(try adminToken)")]
        if body != nil { headers.append(("Content-Type", contentType)) }
        let response = try await HTTPClient.send(
            method, directorURL + path, headers: headers, body: body.map { Array($0.utf8) })
        guard response.status == expect else {
            throw SpawnError("\(method) \(path): \(response.status) \(response.text)")
        }
        return response
    }

    func waitForHealth(_ url: String, log: String) async throws {
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            if let response = try? await HTTPClient.send("GET", url + "/healthz", timeout: .seconds(2)),
                response.status == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw SpawnError("\(url) did not come up; log:\n\(Self.read(log).suffix(3000))")
    }

    func waitForFile(_ path: String, containing text: String, what: String, seconds: Int = 60) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if Self.read(path).contains(text) { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw SpawnError("\(what): no '\(text)' in \(path) after \(seconds) s:\n\(Self.read(path).suffix(3000))")
    }

    /// dnsmasq's leases: MAC → address (`EXPIRY MAC ADDRESS HOSTNAME CLIENT-ID` per line).
    func dnsmasqLeases() -> [String: String] {
        var leases: [String: String] = [:]
        for line in Self.read(leaseFile).split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count >= 3 { leases[String(fields[1]).lowercased()] = String(fields[2]) }
        }
        return leases
    }

    static func read(_ path: String) -> String {
        String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }

    @discardableResult
    func sh(_ program: String, _ arguments: [String]) async throws -> String {
        let result = try await Spawn.run(program, arguments, timeout: .seconds(30))
        guard result.exitCode == 0, !result.timedOut else {
            throw SpawnError(
                "\(program) \(arguments.joined(separator: " ")): exit \(result.exitCode): \(result.output)")
        }
        return result.output
    }
}

extension ProcessInfo {
    /// A process's arguments joined by spaces, or nil once it is gone.
    static func commandLine(_ pid: Int32) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }
}
