/// Reading what `ipmitool` (1.8.19, Debian 12) prints for the chassis commands Gold uses.
public enum IPMIToolOutput {
    /// What one ipmitool run amounted to.
    public enum Outcome: Equatable, Sendable {
        case power(PowerState)
        /// `chassis power on|off|cycle|reset` was accepted: "Chassis Power Control: Up/On".
        case powerControlAccepted(String)
        /// `chassis bootdev X` was accepted: "Set Boot Device to pxe".
        case bootDeviceSet(String)
        case failed(Failure)
    }

    /// Why a run failed, from its stderr (ipmitool run with `-v`).
    public enum Failure: Equatable, Sendable {
        /// "RAKP 2 HMAC is invalid" (wrong password) or "RAKP 2 message indicates an error : unauthorized name".
        case authentication(String)
        /// No answer at the address: "Get Auth Capabilities error", "No response from remote controller", …
        case unreachable(String)
        /// The BMC answered the command with an error, e.g. "… failed: Insufficient privilege level".
        case rejected(String)
        /// Exit status and output that match nothing above.
        case unrecognised(String)
    }

    /// Interprets one run of `ipmitool … chassis …`.
    public static func parse(exitCode: Int32, stdout: String, stderr: String) -> Outcome {
        let out = lines(stdout)
        if exitCode == 0 {
            for line in out {
                // ipmitool lib/ipmi_chassis.c: "Chassis Power is %s" with "on" or "off".
                if line.hasPrefix("Chassis Power is ") {
                    let value = line.dropFirst("Chassis Power is ".count)
                    return .power(value == "on" ? .on : value == "off" ? .off : .unknown)
                }
                if line.hasPrefix("Chassis Power Control: ") {
                    return .powerControlAccepted(String(line.dropFirst("Chassis Power Control: ".count)))
                }
                if line.hasPrefix("Set Boot Device to ") {
                    return .bootDeviceSet(String(line.dropFirst("Set Boot Device to ".count)))
                }
            }
        }
        return .failed(failure(exitCode: exitCode, stdout: out, stderr: lines(stderr)))
    }

    private static func failure(exitCode: Int32, stdout: [String], stderr: [String]) -> Failure {
        let noise: Set<String> = ["Loading IANA PEN Registry...", "Unable to Get Channel Cipher Suites"]
        let err = stderr.filter { !noise.contains($0) }
        let authMarkers = [
            "RAKP 2 HMAC is invalid", "unauthorized name", "invalid authentication",
            "RAKP 4 message has invalid integrity check", "Invalid user name", "Invalid password",
        ]
        if let line = err.first(where: { l in authMarkers.contains { l.contains($0) } }) {
            return .authentication(line)
        }
        let unreachableMarkers = [
            "Get Auth Capabilities error", "No response from remote controller",
            "Error issuing Get Channel Authentication Capabilities", "Address lookup for",
            "Connection refused", "Network is unreachable",
        ]
        if let line = err.first(where: { l in unreachableMarkers.contains { l.contains($0) } }) {
            return .unreachable(line)
        }
        if let line = (err + stdout).first(where: { $0.contains(" failed: ") || $0.hasPrefix("Invalid ") }) {
            return .rejected(line)
        }
        let all = (err + stdout).joined(separator: " | ")
        return .unrecognised("exit \(exitCode)" + (all.isEmpty ? "" : ": \(all)"))
    }

    private static func lines(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters() }.filter { !$0.isEmpty }
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
