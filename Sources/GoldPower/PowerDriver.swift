/// A machine's power state as its BMC reports it.
public enum PowerState: String, Sendable, Codable, Hashable {
    case on
    case off
    /// The BMC answered but its answer does not say on or off (or no BMC can tell, as with manual power).
    case unknown
}

/// The device a machine boots from next.
public enum BootDevice: String, Sendable, Codable, Hashable {
    case network
    case disk
}

/// What a caller asked a power driver to do; named in errors.
public enum PowerAction: String, Sendable, Codable, Hashable {
    case status
    case powerOn = "power on"
    case powerOff = "power off"
    case powerCycle = "power cycle"
    case setNextBoot = "set next boot device"
}

/// Out-of-band control of one machine's power and boot device (a BMC, QEMU's QMP, or a person).
///
/// Every call is idempotent where the hardware allows it: `powerOn()` on a running machine and `powerOff()` on a
/// stopped one succeed without changing anything. Failures throw ``PowerError`` naming the machine and BMC;
/// ``ManualPowerDriver`` throws ``ManualActionRequired`` instead.
public protocol PowerDriver: Sendable {
    /// The machine this driver controls, as named in the fleet.
    var machine: String { get }
    /// Reports whether the machine is powered.
    func status() async throws -> PowerState
    /// Powers the machine on (a cold boot through its firmware); no change when it is already on.
    func powerOn() async throws
    /// Cuts power at once, without asking the operating system; no change when it is already off.
    func powerOff() async throws
    /// Off and on again: a cold boot. Leaves the machine on, whatever its state before.
    func powerCycle() async throws
    /// Chooses the boot device for the next boot only, or for every boot from now on when `persistent`.
    func setNextBoot(_ device: BootDevice, persistent: Bool) async throws
}
