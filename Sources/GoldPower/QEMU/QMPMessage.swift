import Foundation
import GoldCore

/// One line QEMU's QMP server sends (QEMU docs, "QEMU Machine Protocol Specification", §2.2–2.5).
public enum QMPMessage: Sendable, Equatable {
    /// The greeting on connect: `{"QMP": {"version": …, "capabilities": […]}}` (§2.2).
    case greeting(version: String)
    /// A successful command's `{"return": …}` (§2.4.1).
    case success(JSONValue)
    /// A failed command's `{"error": {"class": …, "desc": …}}` (§2.4.2).
    case error(errorClass: String, description: String)
    /// An asynchronous `{"event": NAME, "data": …, "timestamp": …}` (§2.5); may arrive between a command and its
    /// reply.
    case event(name: String, data: JSONValue?)

    /// Parses one line of QMP output.
    public static func parse(_ line: String) throws(QMPParseError) -> QMPMessage {
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)),
            case .object(let o) = json
        else { throw QMPParseError(line: line, reason: "not a JSON object") }
        if let greeting = o["QMP"] {
            let v = greeting["version"]?["qemu"]
            let parts = ["major", "minor", "micro"].map {
                v?[$0]?.numberValue.flatMap { Int(exactly: $0) }.map(String.init) ?? "?"
            }
            return .greeting(version: parts.joined(separator: "."))
        }
        if let value = o["return"] { return .success(value) }
        if let err = o["error"] {
            return .error(
                errorClass: err["class"]?.stringValue ?? "GenericError",
                description: err["desc"]?.stringValue ?? "(no description)")
        }
        if let name = o["event"]?.stringValue { return .event(name: name, data: o["data"]) }
        throw QMPParseError(line: line, reason: "neither greeting, return, error nor event")
    }

    /// Encodes a command line: `{"execute": NAME, "arguments": {…}}` (§2.3).
    public static func command(_ name: String, arguments: [String: JSONValue] = [:]) -> String {
        var o: [String: JSONValue] = ["execute": .string(name)]
        if !arguments.isEmpty { o["arguments"] = .object(arguments) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(JSONValue.object(o))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// A QMP line that is not valid QMP.
public struct QMPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: String
    public let reason: String
    public var description: String { "bad QMP line (\(reason)): \(line.prefix(200))" }
}

/// QEMU's run state from `query-status` (qapi/run-state.json `RunState`), as power.
public enum QEMURunState {
    /// `running` is on; `prelaunch` (started with `-S`, or reset while stopped), `paused` (after `stop`) and
    /// `shutdown` (guest powered off under `-no-shutdown`) are off; the rest (`inmigrate`, `io-error`,
    /// `guest-panicked`, …) are unknown.
    public static func powerState(_ status: String) -> PowerState {
        switch status {
        case "running": .on
        case "prelaunch", "paused", "shutdown": .off
        default: .unknown
        }
    }
}
