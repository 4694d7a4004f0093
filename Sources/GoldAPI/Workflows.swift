/// `POST /v1/workflows`.
public struct StartWorkflowRequest: Codable, Sendable, Hashable {
    public var kind: String
    public var machine: String
    public var parameters: [String: String]?

    public init(kind: String, machine: String, parameters: [String: String]? = nil) {
        self.kind = kind
        self.machine = machine
        self.parameters = parameters
    }
}

/// `POST /v1/rollouts`.
public struct StartRolloutRequest: Codable, Sendable, Hashable {
    public var kind: String
    /// Which machines: `role=ROLE`, `profile=NAME`, `name=A,B` or `all`.
    public var select: String
    public var parameters: [String: String]?
    public var canary: Int?
    public var batch: Int?
    public var maxFailures: Int?

    enum CodingKeys: String, CodingKey {
        case kind, select, parameters, canary, batch
        case maxFailures = "max_failures"
    }

    public init(
        kind: String, select: String, parameters: [String: String]? = nil, canary: Int? = nil, batch: Int? = nil,
        maxFailures: Int? = nil
    ) {
        self.kind = kind
        self.select = select
        self.parameters = parameters
        self.canary = canary
        self.batch = batch
        self.maxFailures = maxFailures
    }
}
