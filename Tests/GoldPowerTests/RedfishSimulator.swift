import Foundation
import GoldCore
import GoldPower
import GoldSpawn
import Testing

/// sushy-tools' `sushy-emulator --fake` (PyPI sushy-tools, installed by scripts/setup.sh into /opt/gold/sushy) on
/// 127.0.0.1 at a free TCP port: one fake ComputerSystem whose power changes land 1–11 s after a request, as on a
/// real BMC. It does not check credentials.
final class RedfishSimulator: @unchecked Sendable {
    let port: Int
    let systemID: String
    private let process: Process

    var baseURL: String { "http://127.0.0.1:\(port)" }

    init() async throws {
        let candidates = ["/opt/gold/sushy/bin/sushy-emulator", SystemRunner.locate("sushy-emulator")].compactMap {
            $0
        }
        let emulator = try #require(
            candidates.first { FileManager.default.isExecutableFile(atPath: $0) },
            "sushy-emulator is missing: run scripts/setup.sh (PyPI package sushy-tools into /opt/gold/sushy)")
        try #require(SystemRunner.locate("curl") != nil, "curl is missing: install Debian package curl")
        port = try Self.freeTCPPort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: emulator)
        process.arguments = ["--fake", "-i", "127.0.0.1", "-p", String(port)]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        var id: String?
        for _ in 0..<100 where id == nil {
            let result = try await SystemRunner().run(
                "curl", ["-sf", "http://127.0.0.1:\(port)/redfish/v1/Systems"], timeout: .seconds(30))
            if result.exitCode == 0,
                let json = try? JSONDecoder().decode(JSONValue.self, from: Data(result.stdout.utf8)),
                case .array(let members) = json["Members"] ?? .null,
                let path = members.first?["@odata.id"]?.stringValue
            {
                id = String(path.split(separator: "/").last ?? "")
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        guard let id else {
            kill(process.processIdentifier, SIGKILL)
            throw RedfishSimulatorError(message: "sushy-emulator did not answer on port \(port) within 10 s")
        }
        systemID = id
    }

    /// The system's `Boot` object as the simulator holds it.
    func boot() async throws -> JSONValue? {
        let result = try await SystemRunner().run(
            "curl", ["-sf", "\(baseURL)/redfish/v1/Systems/\(systemID)"], timeout: .seconds(30))
        return (try? JSONDecoder().decode(JSONValue.self, from: Data(result.stdout.utf8)))?["Boot"]
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    private static func freeTCPPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        try #require(ok, "could not bind a TCP socket on 127.0.0.1")
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

struct RedfishSimulatorError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// The Redfish driver against sushy-tools' emulator over HTTP on loopback.
@Suite(.serialized) struct RedfishSimulatorTests {
    @Test func statusOnCycleOffAndBootOverride() async throws {
        let sim = try await RedfishSimulator()
        defer { sim.stop() }
        let endpoint = RedfishEndpoint(
            baseURL: sim.baseURL, systemID: sim.systemID, user: "gold", password: "unchecked", insecureTLS: false)
        let driver = RedfishPowerDriver(machine: "fish1", endpoint: endpoint)

        // The fake driver keeps its state on disk between runs: start from off.
        if try await driver.status() != .off {
            try await driver.powerOff()
            #expect(try await eventually(driver, is: .off, tries: 15))
        }
        try await driver.powerOn()
        #expect(try await eventually(driver, is: .on, tries: 15))
        try await driver.powerCycle()  // on → ForceRestart
        #expect(try await eventually(driver, is: .on, tries: 15))
        try await driver.powerOff()
        #expect(try await eventually(driver, is: .off, tries: 15))

        try await driver.setNextBoot(.network, persistent: false)
        #expect(try await sim.boot()?["BootSourceOverrideTarget"]?.stringValue == "Pxe")
        try await driver.setNextBoot(.disk, persistent: true)
        let boot = try await sim.boot()
        #expect(boot?["BootSourceOverrideTarget"]?.stringValue == "Hdd")
        #expect(boot?["BootSourceOverrideEnabled"]?.stringValue == "Continuous")

        let missing = RedfishPowerDriver(
            machine: "fish2", endpoint: .init(baseURL: sim.baseURL, systemID: "nope", user: "u", password: "p"))
        let error = try await #require(throws: PowerError.self) { try await missing.status() }
        #expect(error.code == .commandFailed && error.message.contains("HTTP 404"))
    }
}
