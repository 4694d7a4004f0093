import Foundation
import GoldPower
import GoldSpawn
import Testing

/// An `ipmi_sim` (Debian package openipmi) BMC on 127.0.0.1 at a free UDP port, for tests.
///
/// Chassis power and boot device are kept by a `chassis_control` script in files of the simulator's directory,
/// which also logs every call, so a test can see what the BMC was told.
final class IPMISimulator: @unchecked Sendable {
    let directory: String
    let port: Int
    let user = "gold"
    let password = "lab-secret"
    private let process: Process

    var endpoint: IPMIEndpoint {
        // ipmi_sim does not answer "Get Channel Cipher Suites"; suite 3 (RAKP-HMAC-SHA1, AES-CBC-128) it speaks.
        IPMIEndpoint(host: "127.0.0.1", port: port, user: user, password: password, cipherSuite: 3)
    }

    /// What the chassis script holds now for `parameter` ("power", "boot").
    func chassis(_ parameter: String) -> String? {
        (try? String(contentsOfFile: "\(directory)/chassis/\(parameter)", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    var calls: [String] {
        ((try? String(contentsOfFile: "\(directory)/chassis/calls.log", encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    init() async throws {
        for (tool, package) in [("ipmi_sim", "openipmi"), ("ipmitool", "ipmitool")] {
            try #require(SystemRunner.locate(tool) != nil, "\(tool) is missing: install Debian package \(package)")
        }
        directory = NSTemporaryDirectory() + "gold-ipmisim-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
        port = try Self.freeUDPPort()
        let script = """
            #!/bin/sh
            # ipmi_sim chassis_control hook: DEVICE get|set|check PARM [VALUE] ...
            dir='\(directory)/chassis'; mkdir -p "$dir"
            echo "$*" >> "$dir/calls.log"
            shift; op=$1; shift
            case $op in
            get) for p in "$@"; do
                   case $p in power) v=$(cat "$dir/power" 2>/dev/null || echo 0);;
                              boot) v=$(cat "$dir/boot" 2>/dev/null || echo default);;
                              *) echo "unknown parameter $p"; exit 1;; esac
                   echo "$p:$v"; done;;
            set) while [ $# -gt 1 ]; do echo "$2" > "$dir/$1"; shift 2; done;;
            *) exit 1;;
            esac

            """
        try script.write(toFile: directory + "/chassis.sh", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory + "/chassis.sh")
        let lan = """
            name "goldtest"
            set_working_mc 0x20
              startlan 1
                addr 127.0.0.1 \(port)
                priv_limit admin
                allowed_auths_callback none md2 md5 straight
                allowed_auths_user none md2 md5 straight
                allowed_auths_operator none md2 md5 straight
                allowed_auths_admin none md2 md5 straight
                guid a123456789abcdefa123456789abcdef
              endlan
              chassis_control "\(directory)/chassis.sh 0x20"
              user 2 true "\(user)" "\(password)" admin 10 none md2 md5 straight

            """
        try lan.write(toFile: directory + "/lan.conf", atomically: true, encoding: .utf8)
        let emu = """
            mc_setbmc 0x20
            mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
            mc_enable 0x20

            """
        try emu.write(toFile: directory + "/sim.emu", atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: SystemRunner.locate("ipmi_sim")!)
        process.arguments = [
            "-c", directory + "/lan.conf", "-f", directory + "/sim.emu", "-s", directory + "/state", "-n",
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        try await waitReady()
    }

    /// Polls with ipmitool until the simulator answers (it binds its port within a few hundred ms).
    private func waitReady() async throws {
        let driver = IPMIPowerDriver(machine: "sim", endpoint: endpoint, timeout: .seconds(5))
        var lastError: (any Error)?
        for _ in 0..<50 {
            do {
                _ = try await driver.status()
                return
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        stop()
        throw lastError!
    }

    /// ipmi_sim ignores SIGTERM while its state is unsaved; the test's simulator has nothing to keep: SIGKILL.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func freeUDPPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        try #require(ok, "could not bind a UDP socket on 127.0.0.1")
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
