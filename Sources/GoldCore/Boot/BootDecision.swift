/// What the network boot servers tell a machine: a pure function of what the director knows.
public enum BootTarget: Hashable, Sendable {
    case localDisk
    case netboot(NetbootMode, machine: String?)
    /// Say nothing: the machine is not Gold's to boot.
    case ignore
}

/// What to do with a MAC the fleet does not list.
public enum UnknownMachinePolicy: String, Hashable, Sendable, Codable, CaseIterable {
    /// Boot it into the netboot environment in discovery mode so it reports its hardware.
    case discover
    case ignore
}

public enum BootDecision {
    public static func decide(machine: MachineRecord?, nextBoot: NextBoot?, unknown: UnknownMachinePolicy) -> BootTarget
    {
        guard let machine else {
            return unknown == .discover ? .netboot(.discovery, machine: nil) : .ignore
        }
        switch nextBoot ?? .disk {
        case .disk: return .localDisk
        case .netbootOnce(let mode), .netboot(let mode): return .netboot(mode, machine: machine.name)
        }
    }
}
