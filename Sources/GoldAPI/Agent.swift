/// What the agent reports when a command ends: `POST /v1/agent/commands/{id}/result`.
public struct AgentCommandResult: Codable, Sendable, Hashable {
    public var machine: String
    public var ok: Bool
    public var detail: String?
    /// Named values for the workflow's context (``ContextKey``).
    public var outputs: [String: String]?

    public init(machine: String, ok: Bool, detail: String?, outputs: [String: String]?) {
        self.machine = machine
        self.ok = ok
        self.detail = detail
        self.outputs = outputs
    }
}

/// How far a running command is: `POST /v1/agent/commands/{id}/progress`.
public struct AgentCommandProgress: Codable, Sendable, Hashable {
    public var machine: String
    /// 0…1.
    public var fraction: Double
    public var detail: String?

    public init(machine: String, fraction: Double, detail: String?) {
        self.machine = machine
        self.fraction = fraction
        self.detail = detail
    }
}

/// The installed system booted the kernel it was given: `POST /v1/machines/{name}/boot-success`.
public struct BootSuccess: Codable, Sendable, Hashable {
    public var kernel: String

    public init(kernel: String) { self.kernel = kernel }
}

/// Names of the values a workflow's steps hand each other in its context, shared by the director, the agent and the
/// CLI.
public enum ContextKey {
    /// The image version a step built, captured or wrote; restore's parameter naming the version to go back to.
    public static let imageVersion = "image.version"
}
