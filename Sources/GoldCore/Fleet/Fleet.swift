/// A fleet file: profiles of shared settings, and machines that use and override them.
public struct Fleet: Hashable, Sendable, Codable {
    public var profiles: [ProfileSpec]
    public var machines: [MachineSpec]

    public init(profiles: [ProfileSpec] = [], machines: [MachineSpec] = []) {
        self.profiles = profiles
        self.machines = machines
    }
}

/// Shared settings for machines: any machine field but `name`, `profile` and `macs`, as written.
public struct ProfileSpec: Hashable, Sendable, Codable {
    public var name: String
    public var settings: JSONValue

    public init(name: String, settings: JSONValue) {
        self.name = name
        self.settings = settings
    }
}

/// Every problem found in a fleet file; nothing is applied while there is one.
public struct FleetValidationError: Error, Sendable, CustomStringConvertible {
    public var problems: [GoldError]

    public init(problems: [GoldError]) { self.problems = problems }

    public var description: String {
        let lines = problems.map(\.description)
        return lines.count == 1 ? lines[0] : "\(lines.count) problems:\n" + lines.joined(separator: "\n")
    }
}
