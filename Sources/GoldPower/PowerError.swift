import Foundation

/// A power operation that failed: which machine, which BMC, what was asked and what happened.
public struct PowerError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure; compare with the static members. New kinds break no caller's `switch`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case bmcUnreachable = "BMC unreachable"
            case authenticationFailed = "authentication failed"
            case commandFailed = "command failed"
            case unexpectedReply = "unexpected reply"
            case toolMissing = "tool missing"
            case timedOut = "timed out"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// Nothing answered at the BMC's address (socket missing, connection refused, no UDP reply).
        public static let bmcUnreachable = Code(.bmcUnreachable)
        /// The BMC refused the credentials.
        public static let authenticationFailed = Code(.authenticationFailed)
        /// The BMC answered with an error for the command.
        public static let commandFailed = Code(.commandFailed)
        /// The BMC's answer could not be understood.
        public static let unexpectedReply = Code(.unexpectedReply)
        /// A program the driver runs (e.g. ipmitool) is not installed.
        public static let toolMissing = Code(.toolMissing)
        /// The BMC did not finish answering in time.
        public static let timedOut = Code(.timedOut)
        public var description: String { base.rawValue }
    }

    public let code: Code
    /// The machine's fleet name.
    public let machine: String
    /// The BMC's address as the driver used it, e.g. `ipmi://10.0.0.5:623` or `qmp:/run/gold/vm1.qmp`.
    public let bmc: String
    /// What was asked.
    public let action: PowerAction
    /// One line for people: what failed and, where known, what would fix it.
    public let message: String
    /// Raw evidence: the tool's stderr or the BMC's reply.
    public let detail: String?

    public init(
        code: Code, machine: String, bmc: String, action: PowerAction, message: String, detail: String? = nil
    ) {
        self.code = code
        self.machine = machine
        self.bmc = bmc
        self.action = action
        self.message = message
        self.detail = detail
    }

    public var description: String {
        var text = "\(machine): \(action.rawValue) via \(bmc) failed (\(code)): \(message)"
        if let detail, !detail.isEmpty { text += " [\(detail.trimmingCharacters(in: .whitespacesAndNewlines))]" }
        return text
    }
}
