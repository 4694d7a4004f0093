import Foundation
import GoldCore

/// Reading Redfish (DMTF DSP0266/DSP0268) replies as `curl -w` leaves them: the body, then a last line with the HTTP
/// status.
public enum RedfishReply {
    /// Splits curl output made with `-w '\n%{http_code}'` into status and body.
    public static func split(_ output: String) -> (status: Int, body: String)? {
        guard let newline = output.lastIndex(of: "\n") else { return Int(output).map { ($0, "") } }
        guard let status = Int(output[output.index(after: newline)...].trimmingCharacters(in: .whitespaces)) else {
            return nil
        }
        return (status, String(output[..<newline]))
    }

    /// `PowerState` of a ComputerSystem (DSP0268 ComputerSystem.v1_x: On, Off, PoweringOn, PoweringOff, Paused).
    public static func powerState(_ body: String) -> PowerState? {
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(body.utf8)),
            let state = json["PowerState"]?.stringValue
        else { return nil }
        switch state {
        case "On", "PoweringOff": return .on
        case "Off", "PoweringOn": return .off
        default: return .unknown
        }
    }

    /// The most specific message of a Redfish error body (DSP0266 §9.6 "Error responses"), else the body's start.
    public static func errorMessage(_ body: String) -> String {
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(body.utf8)), let error = json["error"]
        else { return String(body.prefix(200)) }
        if case .array(let infos) = error["@Message.ExtendedInfo"] ?? .null,
            let message = infos.first?["Message"]?.stringValue
        {
            return message
        }
        return error["message"]?.stringValue ?? String(body.prefix(200))
    }
}
