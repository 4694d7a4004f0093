import Foundation

/// Where a machine is in its life; workflows move it.
public enum MachineState: String, Hashable, Sendable, Codable, CaseIterable {
    /// In the fleet, never provisioned by Gold.
    case new
    case provisioning
    case ready
    case updating
    case failed
    /// Waiting for a person: see its intervention.
    case intervention
}

/// A machine as the director keeps it: the fleet file's desired state plus what Gold has learned.
public struct MachineRecord: Hashable, Sendable, Codable {
    public var spec: MachineSpec
    public var state: MachineState
    /// Facts the agent reported (CPU, memory, disks, NICs, firmware), as sent.
    public var inventory: JSONValue?
    /// What the machine boots into when its firmware next asks the network.
    public var nextBoot: NextBoot
    /// Bumped at every netboot check-in: enrolment tokens of an earlier generation no longer work.
    public var enrolGeneration: Int64
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        spec: MachineSpec, state: MachineState = .new, inventory: JSONValue? = nil, nextBoot: NextBoot = .disk,
        enrolGeneration: Int64 = 0, createdAt: Date, updatedAt: Date
    ) {
        self.spec = spec
        self.state = state
        self.inventory = inventory
        self.nextBoot = nextBoot
        self.enrolGeneration = enrolGeneration
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public var name: String { spec.name }
}

/// Something that happened, who did it and when. Every change the director makes records one.
public struct Event: Hashable, Sendable, Codable {
    public var id: Int64
    public var at: Date
    /// The token's label or id that caused it (`admin`, `agent:web-01`, `director`).
    public var actor: String
    /// A dotted kind: `fleet.machine.added`, `token.created`, `tftp.transfer`, …
    public var kind: String
    public var machine: String?
    public var message: String
    public var data: JSONValue?

    public init(id: Int64, at: Date, actor: String, kind: String, machine: String?, message: String, data: JSONValue?) {
        self.id = id
        self.at = at
        self.actor = actor
        self.kind = kind
        self.machine = machine
        self.message = message
        self.data = data
    }
}

/// An event before the store gives it an id and a time.
public struct NewEvent: Hashable, Sendable, Codable {
    public var actor: String
    public var kind: String
    public var machine: String?
    public var message: String
    public var data: JSONValue?

    public init(actor: String, kind: String, machine: String? = nil, message: String, data: JSONValue? = nil) {
        self.actor = actor
        self.kind = kind
        self.machine = machine
        self.message = message
        self.data = data
    }
}

/// A bearer token as stored: only its SHA-256 hash, never the secret.
public struct TokenRecord: Hashable, Sendable, Codable {
    public var id: String
    public var hash: String
    public var role: Role
    /// The one machine an `agent` token may report for.
    public var machine: String?
    public var label: String
    public var createdAt: Date
    public var revokedAt: Date?

    public init(
        id: String, hash: String, role: Role, machine: String?, label: String, createdAt: Date, revokedAt: Date? = nil
    ) {
        self.id = id
        self.hash = hash
        self.role = role
        self.machine = machine
        self.label = label
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}
