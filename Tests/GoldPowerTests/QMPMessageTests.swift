import GoldCore
import Testing

@testable import GoldPower

/// Lines captured from QEMU 7.2 (Debian 1:7.2+dfsg-7+deb12u18) over `-qmp unix:…`.
@Suite struct QMPMessageTests {
    static let greeting =
        #"{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}"#

    @Test func greetingCarriesVersion() throws {
        #expect(try QMPMessage.parse(Self.greeting) == .greeting(version: "7.2.22"))
    }

    @Test(arguments: [
        (#"{"return": {}}"#, QMPMessage.success(.object([:]))),
        (#"{"return": 9}"#, .success(.number(9))),
        (
            #"{"return": {"status": "prelaunch", "singlestep": false, "running": false}}"#,
            .success(.object(["status": .string("prelaunch"), "singlestep": .bool(false), "running": .bool(false)]))
        ),
        (
            #"{"timestamp": {"seconds": 1795750369, "microseconds": 443324}, "event": "RESET", "data": {"guest": false, "reason": "host-qmp-system-reset"}}"#,
            .event(name: "RESET", data: .object(["guest": .bool(false), "reason": .string("host-qmp-system-reset")]))
        ),
        (
            #"{"timestamp": {"seconds": 1795750373, "microseconds": 557021}, "event": "RESUME"}"#,
            .event(name: "RESUME", data: nil)
        ),
        (
            #"{"error": {"class": "GenericError", "desc": "The bootindex 10 has already been used"}}"#,
            .error(errorClass: "GenericError", description: "The bootindex 10 has already been used")
        ),
    ])
    func parsesReplies(line: String, expected: QMPMessage) throws {
        #expect(try QMPMessage.parse(line) == expected)
    }

    @Test(arguments: ["", "not json", "[1,2]", #"{"unknown": 1}"#, #"{"return": "#])
    func rejectsGarbage(line: String) {
        #expect(throws: QMPParseError.self) { try QMPMessage.parse(line) }
    }

    @Test func encodesCommands() {
        #expect(QMPMessage.command("query-status") == #"{"execute":"query-status"}"#)
        let set = QMPMessage.command(
            "qom-set",
            arguments: [
                "path": .string("/machine/peripheral/nic0"), "property": .string("bootindex"), "value": .number(1),
            ])
        #expect(
            set
                == #"{"arguments":{"path":"\/machine\/peripheral\/nic0","property":"bootindex","value":1},"execute":"qom-set"}"#
        )
    }

    @Test(arguments: [
        ("running", PowerState.on), ("prelaunch", .off), ("paused", .off), ("shutdown", .off),
        ("inmigrate", .unknown), ("io-error", .unknown), ("guest-panicked", .unknown),
    ])
    func runStatesMapToPower(status: String, expected: PowerState) {
        #expect(QEMURunState.powerState(status) == expected)
    }

    @Test func bootIndexesNeverCollide() {
        let net = QEMUPowerDriver.bootIndexes(first: .network, disks: 3)
        let disk = QEMUPowerDriver.bootIndexes(first: .disk, disks: 3)
        #expect(net.nic == 1 && net.disks == [10, 11, 12])
        #expect(disk.nic == 50 && disk.disks == [10, 11, 12])
        #expect(net.disks.allSatisfy { $0 > net.nic } && disk.disks.allSatisfy { $0 < disk.nic })
    }

    @Test func unreachableSocketNamesMachineAndSocket() async throws {
        let driver = QEMUPowerDriver(machine: "vm7", socketPath: "/nonexistent/gold-test/qmp.sock")
        let error = try await #require(throws: PowerError.self) { try await driver.status() }
        #expect(error.code == .bmcUnreachable)
        #expect(error.machine == "vm7")
        #expect(error.description.contains("qmp:/nonexistent/gold-test/qmp.sock"))
        #expect(error.description.contains("vm7: status"))
    }
}
