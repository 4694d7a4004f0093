import Foundation
import GoldCore
import GoldSpawn
import Logging

/// Power and boot control of a QEMU virtual machine through its QMP socket, modelled on a real machine's BMC.
///
/// The model (QEMU 7.2, measured):
/// - The VM's QEMU process stays up for the machine's whole life, like a BMC on standby power; it is started with
///   `-S` (powered off) and `-no-shutdown` (a guest power-off leaves it in state `shutdown`, not exiting).
/// - on = `running`; off = `prelaunch`, `paused` or `shutdown` (see ``QEMURunState``).
/// - Power on: `system_reset` then `cont`: a cold boot through the firmware, whatever state the VM was left in.
/// - Power off: `stop` then `system_reset`: the CPUs halt at once (no ACPI request, like `chassis power off`)
///   and the reset leaves the VM in `prelaunch`, so the next `cont` starts from the reset vector.
/// - Power cycle: `stop`, `system_reset`, `cont`.
/// - Boot device: `qom-set` of the NIC's `bootindex` (1 before the disks' 10, 11, …, or 50 after them). QEMU rebuilds the
///   fw_cfg `bootorder` file at every reset, and SeaBIOS and OVMF both follow it, so the change takes effect at
///   the next boot, including a reboot the guest starts itself. `system_reset` only requests a reset; the driver
///   waits for QMP's `RESET` event before going on.
/// - Next boot only: QMP has no one-shot boot order, and the firmware reads fw_cfg `bootorder` live during POST
///   (measured: a bootindex restored between `system_reset` and `cont`, or at once after `cont`, is what SeaBIOS
///   uses; restored 0.5 s after `cont`, SeaBIOS has already used the one-shot order). So `powerOn`/`powerCycle`
///   with a one-shot choice pending hold the persistent order back for ``onceHold`` after `cont` — time for the
///   firmware to read it — then restore it before returning. The choice is kept in a state file beside the socket. A next-boot-only choice is kept in a small state
///   file beside the socket and undone by the next `powerOn`/`powerCycle` after its reset, so that boot uses it
///   and the one after returns to the persistent choice.
public struct QEMUPowerDriver: PowerDriver {
    public let machine: String
    /// Path of the VM's QMP unix socket (`-qmp unix:PATH,server=on,wait=off`).
    public let socketPath: String
    /// qdev ids (`-device …,id=ID,bootindex=N`) of the boot NIC.
    public let networkDeviceID: String
    /// qdev ids of the disks, in order.
    public let diskDeviceIDs: [String]
    /// Deadline for each QMP read or write.
    public let timeout: Duration
    /// How long a one-shot boot order stays in place after power on. Under TCG on a busy 2-core host SeaBIOS reads
    /// it within 0.5 s, OVMF within 5–9 s (it reads it in BDS, just before ">>Start PXE over IPv4").
    public let onceHold: Duration
    private let logger: Logger

    public init(
        machine: String, socketPath: String, networkDeviceID: String = "nic0", diskDeviceIDs: [String] = ["disk0"],
        timeout: Duration = .seconds(5), onceHold: Duration = .seconds(20),
        logger: Logger = Logger(label: "gold.power.qemu")
    ) {
        self.machine = machine
        self.socketPath = socketPath
        self.networkDeviceID = networkDeviceID
        self.diskDeviceIDs = diskDeviceIDs
        self.timeout = timeout
        self.onceHold = onceHold
        self.logger = logger
    }

    /// Where next-boot-only state lives: beside the socket.
    public var bootStatePath: String { socketPath + ".boot.json" }

    public func status() async throws -> PowerState {
        try await session(.status) { qmp in
            let reply = try qmp.execute("query-status")
            guard let status = reply["status"]?.stringValue else {
                throw QMPFailure.badReply("query-status: no status")
            }
            return QEMURunState.powerState(status)
        }
    }

    public func powerOn() async throws {
        let boot = loadBootState()
        let booted = try await session(.powerOn) { qmp in
            let status = try qmp.execute("query-status")["status"]?.stringValue ?? ""
            if QEMURunState.powerState(status) == .on { return false }
            _ = try qmp.execute("system_reset", awaiting: "RESET")
            _ = try qmp.execute("cont")
            return true
        }
        if booted { try await restorePersistent(boot, after: .powerOn) }
    }

    public func powerOff() async throws {
        try await session(.powerOff) { qmp in
            let status = try qmp.execute("query-status")["status"]?.stringValue ?? ""
            if status == "prelaunch" { return }  // already off and reset
            _ = try qmp.execute("stop")
            _ = try qmp.execute("system_reset", awaiting: "RESET")
        }
    }

    public func powerCycle() async throws {
        let boot = loadBootState()
        try await session(.powerCycle) { qmp in
            _ = try qmp.execute("stop")
            _ = try qmp.execute("system_reset", awaiting: "RESET")
            _ = try qmp.execute("cont")
        }
        try await restorePersistent(boot, after: .powerCycle)
    }

    public func setNextBoot(_ device: BootDevice, persistent: Bool) async throws {
        var boot = loadBootState()
        if persistent {
            boot = BootState(persistent: device, once: nil)
        } else {
            boot.once = device
        }
        let state = boot
        try await session(.setNextBoot) { qmp in try applyBootOrder(device, qmp) }
        do {
            try JSONEncoder().encode(state).write(to: URL(fileURLWithPath: bootStatePath), options: .atomic)
        } catch {
            throw PowerError(
                code: .commandFailed, machine: machine, bmc: bmc, action: .setNextBoot,
                message: "boot order set in QEMU but its state file \(bootStatePath) could not be written",
                detail: "\(error)")
        }
    }

    // MARK: - Boot order

    /// The persistent choice and a pending next-boot-only choice.
    struct BootState: Codable, Equatable {
        var persistent: BootDevice
        var once: BootDevice?
    }

    /// The lab starts VMs with the network first; with no state file that is the persistent choice.
    func loadBootState() -> BootState {
        guard let data = FileManager.default.contents(atPath: bootStatePath),
            let state = try? JSONDecoder().decode(BootState.self, from: data)
        else { return BootState(persistent: .network, once: nil) }
        return state
    }

    /// bootindex values never collide during a change: disks are 10, 11, …; the NIC is 1 (before them) or 50.
    static func bootIndexes(first: BootDevice, disks: Int) -> (nic: Int, disks: [Int]) {
        (first == .network ? 1 : 50, (0..<disks).map { 10 + $0 })
    }

    /// Only the NIC moves: the disks keep 10, 11, … from QEMU's command line. QEMU refuses to set a bootindex a
    /// device already holds ("The bootindex 10 has already been used"), so an unchanged value is not set again.
    private func applyBootOrder(_ first: BootDevice, _ qmp: QMPConnection) throws {
        let nic = Self.bootIndexes(first: first, disks: diskDeviceIDs.count).nic
        let path = JSONValue.string("/machine/peripheral/\(networkDeviceID)")
        let current = try qmp.execute("qom-get", arguments: ["path": path, "property": .string("bootindex")])
        if current.numberValue == Double(nic) { return }
        _ = try qmp.execute(
            "qom-set", arguments: ["path": path, "property": .string("bootindex"), "value": .number(Double(nic))])
    }

    /// After a boot that used a one-shot choice: wait ``onceHold``, then back to the persistent order.
    private func restorePersistent(_ boot: BootState, after action: PowerAction) async throws {
        guard boot.once != nil else { return }
        try await Task.sleep(for: onceHold)
        try await session(action) { qmp in try applyBootOrder(boot.persistent, qmp) }
        let cleared = BootState(persistent: boot.persistent, once: nil)
        try? JSONEncoder().encode(cleared).write(to: URL(fileURLWithPath: bootStatePath), options: .atomic)
    }

    // MARK: - Sessions

    private var bmc: String { "qmp:\(socketPath)" }

    private func session<T: Sendable>(_ action: PowerAction, _ body: @escaping @Sendable (QMPConnection) throws -> T)
        async throws -> T
    {
        let path = socketPath
        let timeout = timeout
        let machine = machine
        let bmc = bmc
        logger.debug("qmp \(action.rawValue)", metadata: ["machine": "\(machine)", "socket": "\(path)"])
        // QMP is a blocking socket conversation: a thread of its own (GoldSpawn's Blocking), not Dispatch's pool.
        return try await Blocking.run {
            do {
                let qmp = try QMPConnection.open(path: path, timeout: timeout)
                return try body(qmp)
            } catch let failure as QMPFailure {
                throw Self.error(failure, machine: machine, bmc: bmc, action: action)
            }
        }
    }

    static func error(_ failure: QMPFailure, machine: String, bmc: String, action: PowerAction) -> PowerError {
        switch failure {
        case .unreachable(let why):
            PowerError(code: .bmcUnreachable, machine: machine, bmc: bmc, action: action, message: why)
        case .timedOut(let why):
            PowerError(code: .timedOut, machine: machine, bmc: bmc, action: action, message: why)
        case .commandFailed(let errorClass, let description):
            PowerError(
                code: .commandFailed, machine: machine, bmc: bmc, action: action, message: description,
                detail: errorClass)
        case .badReply(let why):
            PowerError(code: .unexpectedReply, machine: machine, bmc: bmc, action: action, message: why)
        }
    }
}
