import Foundation

/// `POST /v1/tokens`: a new token for a role (`admin`, `operator`, `viewer`, `agent`, `server`, `worker`); an agent
/// token names its machine.
public struct TokenRequest: Codable, Sendable, Hashable {
    public var role: String
    public var machine: String?
    public var label: String?

    public init(role: String, machine: String?, label: String?) {
        self.role = role
        self.machine = machine
        self.label = label
    }
}

/// A token as `GET /v1/tokens` lists it: never its secret.
public struct TokenView: Codable, Sendable, Hashable {
    public var id: String
    public var role: String
    public var machine: String?
    public var label: String
    public var createdAt: Date
    public var revokedAt: Date?

    public init(id: String, role: String, machine: String?, label: String, createdAt: Date, revokedAt: Date?) {
        self.id = id
        self.role = role
        self.machine = machine
        self.label = label
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// The answer to `POST /v1/tokens`: the only time the secret is shown.
public struct CreatedToken: Codable, Sendable, Hashable {
    public var id: String
    public var token: String
    public var role: String
    public var machine: String?
    public var label: String

    public init(id: String, token: String, role: String, machine: String?, label: String) {
        self.id = id
        self.token = token
        self.role = role
        self.machine = machine
        self.label = label
    }
}
