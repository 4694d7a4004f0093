import GoldCore

/// What a step asks the outside world to do. Adapters execute actions; the engine only decides them.
public enum Action: Hashable, Sendable, Codable {
    /// Build (or reuse from the cache) the machine's kernel and binaries on the compile server.
    case compile
    /// Build the machine's image version from the cached base.
    case buildImage
    case setNextBoot(NextBoot)
    case power(PowerAction)
    /// Ask the machine's agent to do something; it answers with the command's outcome.
    case agent(AgentRequest)
    /// Checks from the build server: TCP, HTTP, ssh probes and connectivity to the fleet's other servers.
    case serverChecks
    /// Record a new image version: the stored image with the same change applied.
    case recordImageVersion(change: String)
    case setState(MachineState)
    /// Nothing to do but wait for what the step awaits.
    case wait

    /// Whether running it twice for one decision could do harm (power, disk writes, binary swaps).
    public var isDestructive: Bool {
        switch self {
        case .power(let action): action != .bootDisk && action != .bootNetwork
        case .agent(let request): request.isDestructive
        default: false
        }
    }
}

public enum PowerAction: String, Hashable, Sendable, Codable {
    case on, off, cycle
    /// Power on, or cycle when already on.
    case onOrCycle = "on-or-cycle"
    /// The next boot only, from the local disk (IPMI `bootdev disk`, Redfish boot override, QEMU boot order).
    case bootDisk = "boot-disk"
    /// The next boot only, from the network.
    case bootNetwork = "boot-network"
}

/// The agent's command types: a closed list with validated arguments, never a shell line from the network.
public enum AgentRequest: Hashable, Sendable, Codable {
    /// Acknowledge, then reboot (into the netboot entry with `grub-reboot` when `netboot`).
    case reboot(netboot: Bool)
    /// nil: the version this workflow built.
    case writeImage(version: Int?)
    /// Copy the compile server's kernel artifact (by key) to the local disk's /boot and make it GRUB's next boot only.
    case installKernel(artifact: String)
    /// Make the kernel of this release GRUB's default (`saved_entry`).
    case promoteKernel(release: String)
    /// Remove the kernel of this release: its GRUB entry, its files in /boot, a pending `next_entry` for it.
    case removeKernel(release: String)
    case stopServices(binary: String)
    case replaceBinary(name: String, artifact: String)
    case restoreBinary(name: String)
    case startServices(binary: String)
    case machineChecks
    case torture(seconds: Int)
    case collectLogs
    /// From the netboot environment: read every disk and store it as a new image version (change `capture`,
    /// parent the current version); only chunks the store lacks are uploaded.
    case captureImage

    public var isDestructive: Bool {
        switch self {
        case .reboot, .writeImage, .installKernel, .promoteKernel, .removeKernel, .replaceBinary, .restoreBinary: true
        // Reads the disks; a second run records the same disks again.
        case .stopServices, .startServices, .machineChecks, .torture, .collectLogs, .captureImage: false
        }
    }
}

/// Something the director learns from outside a command: what completes a waiting step.
public enum Observation: Hashable, Sendable, Codable {
    /// The machine fetched a boot file (TFTP or HTTP) from the deploy server.
    case bootFetch(file: String)
    /// The agent checked in from the netboot environment.
    case netbootCheckIn
    /// The installed system's agent reports that this boot made it through, with this kernel.
    case bootSuccess(kernel: String)

    /// Whether this observation completes a step awaiting `awaited` (kernel names already resolved).
    func satisfies(_ awaited: Awaited) -> Bool {
        switch (self, awaited) {
        case (.bootFetch, .bootFetch): true
        case (.netbootCheckIn, .netbootCheckIn): true
        case (.bootSuccess(let kernel), .bootSuccess(let wanted)): wanted == nil || wanted == kernel
        default: false
        }
    }

    /// A boot success from another kernel than the one awaited: the machine came back on its old kernel.
    func contradicts(_ awaited: Awaited) -> String? {
        if case .bootSuccess(let kernel) = self, case .bootSuccess(let wanted?) = awaited, kernel != wanted {
            return kernel
        }
        return nil
    }
}

/// What a step waits for after its action is issued.
public enum Awaited: Hashable, Sendable, Codable {
    case bootFetch
    case netbootCheckIn
    /// Boot success, from a given kernel when one is named.
    case bootSuccess(kernel: String?)
}
