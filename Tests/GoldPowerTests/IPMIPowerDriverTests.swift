import GoldSpawn
import GoldTestSupport
import Testing

@testable import GoldPower

@Suite struct IPMIPowerDriverTests {
    let endpoint = IPMIEndpoint(host: "10.0.0.5", port: 6230, user: "admin", password: "s3cret", cipherSuite: 3)

    @Test func passwordTravelsInEnvironmentOnly() async throws {
        let runner = ScriptedRunner(replies: [
            InvocationResult(exitCode: 0, stdout: "Chassis Power is on\n", stderr: "")
        ])
        let driver = IPMIPowerDriver(machine: "node1", endpoint: endpoint, runner: runner)
        #expect(try await driver.status() == .on)
        let call = try #require(runner.commands.first)
        #expect(call.program == "ipmitool")
        #expect(
            call.arguments == [
                "-I", "lanplus", "-H", "10.0.0.5", "-p", "6230", "-U", "admin", "-E", "-C", "3", "-R", "2", "-N", "2",
                "-v", "chassis", "power", "status",
            ])
        #expect(!call.arguments.contains("s3cret"))
        #expect(call.environment.variables["IPMI_PASSWORD"] == "s3cret")
    }

    @Test func cycleOfAnOffMachinePowersItOn() async throws {
        let runner = ScriptedRunner(replies: [
            InvocationResult(exitCode: 0, stdout: "Chassis Power is off\n", stderr: ""),
            InvocationResult(exitCode: 0, stdout: "Chassis Power Control: Up/On\n", stderr: ""),
        ])
        try await IPMIPowerDriver(machine: "node1", endpoint: endpoint, runner: runner).powerCycle()
        #expect(
            runner.commands.map { $0.arguments.suffix(3) } == [
                ["chassis", "power", "status"], ["chassis", "power", "on"],
            ])
    }

    @Test(arguments: [
        (BootDevice.network, false, ["chassis", "bootdev", "pxe"]),
        (.network, true, ["chassis", "bootdev", "pxe", "options=persistent"]),
        (.disk, false, ["chassis", "bootdev", "disk"]),
    ])
    func bootDeviceArguments(device: BootDevice, persistent: Bool, expected: [String]) async throws {
        let runner = ScriptedRunner(replies: [
            InvocationResult(exitCode: 0, stdout: "Set Boot Device to x\n", stderr: "")
        ])
        try await IPMIPowerDriver(machine: "n", endpoint: endpoint, runner: runner)
            .setNextBoot(device, persistent: persistent)
        #expect(Array(try #require(runner.commands.first).arguments.suffix(expected.count)) == expected)
    }

    @Test func wrongPasswordIsAnAuthenticationErrorNamingMachineAndBMC() async throws {
        let runner = ScriptedRunner(replies: [
            InvocationResult(
                exitCode: 1, stdout: "",
                stderr: "> RAKP 2 HMAC is invalid\nError: Unable to establish IPMI v2 / RMCP+ session\n")
        ])
        let driver = IPMIPowerDriver(machine: "node1", endpoint: endpoint, runner: runner)
        let error = try await #require(throws: PowerError.self) { try await driver.powerOff() }
        #expect(error.code == .authenticationFailed)
        #expect(error.machine == "node1" && error.bmc == "ipmi://10.0.0.5:6230" && error.action == .powerOff)
        #expect(error.message.contains("admin"))
    }

    @Test func timeoutIsReported() async throws {
        let runner = ScriptedRunner(replies: [InvocationResult(exitCode: 15, stdout: "", stderr: "", timedOut: true)])
        let error = try await #require(throws: PowerError.self) {
            try await IPMIPowerDriver(machine: "n", endpoint: endpoint, runner: runner).powerOn()
        }
        #expect(error.code == .timedOut)
    }
}

@Suite struct ManualPowerDriverTests {
    @Test func everyActionAsksAPerson() async throws {
        let driver = ManualPowerDriver(machine: "old7", location: "rack B2")
        #expect(try await driver.status() == .unknown)
        let on = try await #require(throws: ManualActionRequired.self) { try await driver.powerOn() }
        #expect(on.action == .powerOn && on.machine == "old7" && on.instructions.contains("rack B2"))
        let boot = try await #require(throws: ManualActionRequired.self) {
            try await driver.setNextBoot(.network, persistent: false)
        }
        #expect(boot.bootDevice == .network && boot.persistent == false && boot.instructions.contains("PXE"))
        await #expect(throws: ManualActionRequired.self) { try await driver.powerOff() }
        await #expect(throws: ManualActionRequired.self) { try await driver.powerCycle() }
    }
}
