import Testing

@testable import GoldPower

/// The IPMI driver against a real BMC simulator over RMCP+ on loopback.
@Suite(.serialized) struct IPMISimulatorTests {
    @Test func statusOnOffCycleAndBootDevice() async throws {
        let sim = try await IPMISimulator()
        defer { sim.stop() }
        let driver = IPMIPowerDriver(machine: "simnode", endpoint: sim.endpoint)

        #expect(try await driver.status() == .off)
        try await driver.powerOn()
        #expect(try await driver.status() == .on)
        #expect(sim.chassis("power") == "1")

        try await driver.powerCycle()  // on → cycle: the BMC turns it off, waits its cycle interval (1 s), turns it on
        #expect(try await eventually(driver, is: .on))
        let sinceOn = sim.calls.drop(while: { $0 != "0x20 set power 1" }).dropFirst()
        #expect(Array(sinceOn.filter { $0.contains("set") }) == ["0x20 set power 0", "0x20 set power 1"])

        try await driver.powerOff()
        #expect(try await driver.status() == .off)
        #expect(sim.chassis("power") == "0")

        try await driver.powerCycle()  // off → on
        #expect(try await eventually(driver, is: .on))

        try await driver.setNextBoot(.network, persistent: false)
        #expect(sim.chassis("boot") == "pxe")
        try await driver.setNextBoot(.disk, persistent: true)
        #expect(sim.chassis("boot") == "default")  // ipmi_sim's name for "boot from disk"
    }

    @Test func wrongPasswordAndWrongPortAreTold() async throws {
        let sim = try await IPMISimulator()
        defer { sim.stop() }
        var bad = sim.endpoint
        bad.password = "wrong"
        let auth = try await #require(throws: PowerError.self) {
            try await IPMIPowerDriver(machine: "simnode", endpoint: bad).status()
        }
        #expect(auth.code == .authenticationFailed)

        var elsewhere = sim.endpoint
        elsewhere.port = sim.port == 65535 ? sim.port - 1 : sim.port + 1
        let unreachable = try await #require(throws: PowerError.self) {
            try await IPMIPowerDriver(machine: "simnode", endpoint: elsewhere).status()
        }
        #expect(unreachable.code == .bmcUnreachable)
        #expect(unreachable.description.contains("simnode"))
    }
}

/// Polls `status()` until it reports `state`; false after `tries` tries a second apart.
func eventually(_ driver: some PowerDriver, is state: PowerState, tries: Int = 10) async throws -> Bool {
    for _ in 0..<tries {
        if try await driver.status() == state { return true }
        try await Task.sleep(for: .seconds(1))
    }
    return false
}
