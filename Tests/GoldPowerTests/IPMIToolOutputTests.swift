import Testing

@testable import GoldPower

/// Output of ipmitool 1.8.19 (Debian 12) against ipmi_sim (openipmi 2.0.33), captured by hand.
@Suite struct IPMIToolOutputTests {
    typealias Outcome = IPMIToolOutput.Outcome

    @Test(
        arguments: [
            (0, "Chassis Power is on\n", "", Outcome.power(.on)),
            (0, "Chassis Power is off\n", "Loading IANA PEN Registry...\n", .power(.off)),
            (0, "Chassis Power Control: Up/On\n", "", .powerControlAccepted("Up/On")),
            (0, "Chassis Power Control: Down/Off\n", "", .powerControlAccepted("Down/Off")),
            (0, "Chassis Power Control: Cycle\n", "", .powerControlAccepted("Cycle")),
            (0, "Set Boot Device to pxe\n", "", .bootDeviceSet("pxe")),
            (0, "Set Boot Device to disk\n", "", .bootDeviceSet("disk")),
            (
                1, "",
                "Loading IANA PEN Registry...\n> RAKP 2 HMAC is invalid\nError: Unable to establish IPMI v2 / RMCP+ session\n",
                .failed(.authentication("> RAKP 2 HMAC is invalid"))
            ),
            (
                1, "",
                "Loading IANA PEN Registry...\nRAKP 2 message indicates an error : unauthorized name\nError: Unable to establish IPMI v2 / RMCP+ session\n",
                .failed(.authentication("RAKP 2 message indicates an error : unauthorized name"))
            ),
            (
                1, "",
                "Loading IANA PEN Registry...\nGet Auth Capabilities error\nError issuing Get Channel Authentication Capabilities request\nError: Unable to establish IPMI v2 / RMCP+ session\n",
                .failed(.unreachable("Get Auth Capabilities error"))
            ),
            (
                1, "",
                "Get HPM.x Capabilities request failed, compcode = d4\nSet Chassis Power Control to Down/Off failed: Insufficient privilege level\n",
                .failed(.rejected("Set Chassis Power Control to Down/Off failed: Insufficient privilege level"))
            ),
            (0, "something new\n", "", .failed(.unrecognised("exit 0: something new"))),
        ] as [(Int32, String, String, Outcome)])
    func parses(exitCode: Int32, stdout: String, stderr: String, expected: Outcome) {
        #expect(IPMIToolOutput.parse(exitCode: exitCode, stdout: stdout, stderr: stderr) == expected)
    }
}
