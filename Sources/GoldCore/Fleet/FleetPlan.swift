/// What applying a fleet file changes: the diff shown before it is applied.
public struct FleetPlan: Hashable, Sendable, Codable {
    public struct Change: Hashable, Sendable, Codable {
        public var machine: String
        /// The top-level fields that differ (`disks`, `kernel`, …).
        public var fields: [String]

        public init(machine: String, fields: [String]) {
            self.machine = machine
            self.fields = fields
        }
    }

    public var added: [String] = []
    public var changed: [Change] = []
    public var removed: [String] = []
    /// In the store, absent from the file, kept because `prune` was not asked for.
    public var kept: [String] = []
    public var unchanged: [String] = []
    public var profilesAdded: [String] = []
    public var profilesChanged: [String] = []
    public var profilesRemoved: [String] = []

    public init() {}

    public var isEmpty: Bool {
        added.isEmpty && changed.isEmpty && removed.isEmpty && profilesAdded.isEmpty && profilesChanged.isEmpty
            && profilesRemoved.isEmpty
    }

    /// Compares the fleet file with the store. Throws when the file cannot be applied on top of what is stored
    /// (a MAC still held by a machine that the file leaves in place).
    public static func make(current: [MachineSpec], currentProfiles: [ProfileSpec], desired: Fleet, prune: Bool) throws
        -> FleetPlan
    {
        var plan = FleetPlan()
        let byName = Dictionary(current.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let desiredNames = Set(desired.machines.map(\.name))
        for machine in desired.machines {
            guard let old = byName[machine.name] else {
                plan.added.append(machine.name)
                continue
            }
            let fields = changedFields(old, machine)
            if fields.isEmpty {
                plan.unchanged.append(machine.name)
            } else {
                plan.changed.append(Change(machine: machine.name, fields: fields))
            }
        }
        for machine in current where !desiredNames.contains(machine.name) {
            if prune { plan.removed.append(machine.name) } else { plan.kept.append(machine.name) }
        }
        let keptMachines = current.filter { plan.kept.contains($0.name) }
        for machine in desired.machines {
            for mac in machine.macs {
                if let holder = keptMachines.first(where: { $0.macs.contains(mac) }) {
                    throw GoldError(
                        .conflict,
                        "MAC \(mac) of machine '\(machine.name)' belongs to machine '\(holder.name)', which this file leaves in place; change the MAC or apply with --prune to remove '\(holder.name)'",
                        at: "machines[\(machine.name)].macs")
                }
            }
        }
        let oldProfiles = Dictionary(currentProfiles.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for profile in desired.profiles {
            if let old = oldProfiles[profile.name] {
                if old != profile { plan.profilesChanged.append(profile.name) }
            } else {
                plan.profilesAdded.append(profile.name)
            }
        }
        let desiredProfiles = Set(desired.profiles.map(\.name))
        plan.profilesRemoved = currentProfiles.map(\.name).filter { !desiredProfiles.contains($0) }
        if !prune {
            // A profile a kept machine still names stays.
            let stillUsed = Set(keptMachines.compactMap(\.profile))
            plan.profilesRemoved.removeAll { stillUsed.contains($0) }
        }
        return plan
    }

    static func changedFields(_ a: MachineSpec, _ b: MachineSpec) -> [String] {
        var fields: [String] = []
        if a.profile != b.profile { fields.append("profile") }
        if a.role != b.role { fields.append("role") }
        if a.macs != b.macs { fields.append("macs") }
        if a.boot != b.boot { fields.append("boot") }
        if a.cpu != b.cpu { fields.append("cpu") }
        if a.disks != b.disks { fields.append("disks") }
        if a.network != b.network { fields.append("network") }
        if a.users != b.users { fields.append("users") }
        if a.services != b.services { fields.append("services") }
        if a.kernel != b.kernel { fields.append("kernel") }
        if a.binaries != b.binaries { fields.append("binaries") }
        if a.checks != b.checks { fields.append("checks") }
        if a.power != b.power { fields.append("power") }
        if a.deadlines != b.deadlines { fields.append("deadlines") }
        return fields
    }

    /// The plan as lines for a person: `+ web-01`, `~ web-02 (kernel, disks)`, `- old-01`.
    public var lines: [String] {
        added.map { "+ machine \($0)" }
            + changed.map { "~ machine \($0.machine) (\($0.fields.joined(separator: ", ")))" }
            + removed.map { "- machine \($0)" } + profilesAdded.map { "+ profile \($0)" }
            + profilesChanged.map { "~ profile \($0)" } + profilesRemoved.map { "- profile \($0)" }
            + kept.map { "  machine \($0) is not in the file; kept (use --prune to remove it)" }
    }
}
