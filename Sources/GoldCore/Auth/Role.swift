/// What a bearer token may do.
public enum Role: String, Hashable, Sendable, Codable, CaseIterable {
    /// Everything, tokens included.
    case admin
    /// Runs workflows and applies fleet files; cannot manage tokens.
    case `operator`
    /// Reads.
    case viewer
    /// A build/deploy or compile server: reads, reports transfers and builds.
    case server
    /// The agent on one machine: reports for that machine only.
    case agent
}

/// An action the API guards; the route declares which one it needs.
public enum Permission: Hashable, Sendable {
    case read
    case operate
    case administer
    /// Reports made by Gold's own servers (boot fetches, build results).
    case serverReport
    /// A report about one machine (inventory, boot success) from that machine's agent, or a server.
    case machineReport(String)
}

/// The decision for a token and an action: a pure function, so the rules are tested as a table.
public enum Authorization {
    public static func allows(role: Role, boundMachine: String?, _ permission: Permission) -> Bool {
        switch (role, permission) {
        case (.admin, _): return true
        case (.operator, .read), (.operator, .operate): return true
        case (.viewer, .read): return true
        case (.server, .read), (.server, .serverReport), (.server, .machineReport): return true
        case (.agent, .machineReport(let machine)): return boundMachine == machine
        default: return false
        }
    }
}
