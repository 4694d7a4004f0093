/// Thrown by ``ManualPowerDriver``: a person must do `action` on `machine`; the caller turns this into an
/// intervention and waits for someone to confirm it.
public struct ManualActionRequired: Error, Sendable, CustomStringConvertible {
    public let machine: String
    public let action: PowerAction
    /// The boot device a person should select, for ``PowerAction/setNextBoot``.
    public let bootDevice: BootDevice?
    /// Whether the boot device choice should stick, for ``PowerAction/setNextBoot``.
    public let persistent: Bool
    /// What to do, in words for the person at the machine.
    public let instructions: String

    public var description: String { "\(machine): manual action required: \(instructions)" }
}

/// For machines without a BMC Gold can reach: every operation asks a person to act.
///
/// `status()` returns ``PowerState/unknown`` (nothing can be asked); every other call throws
/// ``ManualActionRequired``.
public struct ManualPowerDriver: PowerDriver {
    public let machine: String
    /// Where the machine is, to help the person find it (rack, room); optional.
    public let location: String?

    public init(machine: String, location: String? = nil) {
        self.machine = machine
        self.location = location
    }

    public func status() async throws -> PowerState { .unknown }

    public func powerOn() async throws { throw required(.powerOn, "press the power button of \(target) to turn it on") }

    public func powerOff() async throws {
        throw required(.powerOff, "hold the power button of \(target) until it turns off")
    }

    public func powerCycle() async throws {
        throw required(.powerCycle, "turn \(target) off, then on again (a reset button will do)")
    }

    public func setNextBoot(_ device: BootDevice, persistent: Bool) async throws {
        let what = device == .network ? "network (PXE)" : "local disk"
        let when = persistent ? "as the first boot device from now on" : "for the next boot (boot menu key)"
        throw ManualActionRequired(
            machine: machine, action: .setNextBoot, bootDevice: device, persistent: persistent,
            instructions: "in the firmware of \(target), choose \(what) \(when)")
    }

    private var target: String { location.map { "\(machine) (\($0))" } ?? machine }

    private func required(_ action: PowerAction, _ instructions: String) -> ManualActionRequired {
        ManualActionRequired(
            machine: machine, action: action, bootDevice: nil, persistent: false, instructions: instructions)
    }
}
