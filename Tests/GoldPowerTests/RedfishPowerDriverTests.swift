import Foundation
import GoldSpawn
import GoldTestSupport
import Testing

@testable import GoldPower

/// Replies shaped as DSP0268 documents them (ComputerSystem, Reset action, error body).
@Suite struct RedfishPowerDriverTests {
    let endpoint = RedfishEndpoint(baseURL: "https://10.0.0.9", systemID: "1", user: "root", password: "p\"w")

    static let systemOn = #"{"@odata.id": "/redfish/v1/Systems/1", "Id": "1", "PowerState": "On", "Boot": {}}"#
    static let error = #"""
        {"error": {"code": "Base.1.8.GeneralError", "message": "A general error has occurred.",
          "@Message.ExtendedInfo": [{"MessageId": "Base.1.8.ActionParameterValueNotInList",
            "Message": "The value PowerCycle for the parameter ResetType is not in the list of acceptable values."}]}}
        """#

    @Test(arguments: [
        (#"{"PowerState": "On"}"#, PowerState?.some(.on)), (#"{"PowerState": "Off"}"#, .off),
        (#"{"PowerState": "PoweringOn"}"#, .off), (#"{"PowerState": "Paused"}"#, .unknown), ("{}", nil),
    ])
    func powerStates(body: String, expected: PowerState?) {
        #expect(RedfishReply.powerState(body) == expected)
    }

    @Test func errorBodiesGiveTheMostSpecificMessage() {
        #expect(RedfishReply.errorMessage(Self.error).hasPrefix("The value PowerCycle for the parameter ResetType"))
        #expect(RedfishReply.errorMessage("<html>oops</html>") == "<html>oops</html>")
        #expect(RedfishReply.split("{}\n204")! == (204, "{}"))
    }

    @Test func cycleOfARunningMachineIsForceRestartWithCredentialsOffTheCommandLine() async throws {
        let runner = ScriptedRunner(replies: [
            InvocationResult(exitCode: 0, stdout: Self.systemOn + "\n200", stderr: ""),
            InvocationResult(exitCode: 0, stdout: "\n204", stderr: ""),
        ])
        try await RedfishPowerDriver(machine: "r1", endpoint: endpoint, runner: runner).powerCycle()
        let calls = runner.commands
        #expect(calls.count == 2)
        #expect(calls[1].arguments.last == "https://10.0.0.9/redfish/v1/Systems/1/Actions/ComputerSystem.Reset")
        #expect(calls[1].arguments.contains(#"{"ResetType":"ForceRestart"}"#))
        #expect(calls.allSatisfy { !$0.arguments.joined().contains("p\"w") && $0.arguments.contains("-k") })
    }

    @Test func bootOverrideIsAPatch() async throws {
        let runner = ScriptedRunner(replies: [InvocationResult(exitCode: 0, stdout: "\n204", stderr: "")])
        try await RedfishPowerDriver(machine: "r1", endpoint: endpoint, runner: runner).setNextBoot(
            .network, persistent: false)
        let args = try #require(runner.commands.first).arguments
        #expect(args.contains("PATCH"))
        #expect(args.contains(#"{"Boot":{"BootSourceOverrideTarget":"Pxe","BootSourceOverrideEnabled":"Once"}}"#))
    }

    @Test(arguments: [
        (InvocationResult(exitCode: 0, stdout: "\n401", stderr: ""), PowerError.Code.authenticationFailed),
        (InvocationResult(exitCode: 0, stdout: Self.error + "\n400", stderr: ""), .commandFailed),
        (InvocationResult(exitCode: 7, stdout: "", stderr: "curl: (7) Failed to connect"), .bmcUnreachable),
        (InvocationResult(exitCode: 28, stdout: "", stderr: "curl: (28) timed out"), .timedOut),
        (InvocationResult(exitCode: 0, stdout: "{}\n200", stderr: ""), .unexpectedReply),
    ])
    func failuresAreNamed(reply: InvocationResult, code: PowerError.Code) async throws {
        let driver = RedfishPowerDriver(machine: "r1", endpoint: endpoint, runner: ScriptedRunner(replies: [reply]))
        let error = try await #require(throws: PowerError.self) { _ = try await driver.status() }
        #expect(error.code == code && error.machine == "r1" && error.bmc == "https://10.0.0.9")
    }
}
