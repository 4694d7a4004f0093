import GoldCore

/// How long steps may take. Defaults suit QEMU under TCG and ordinary servers; slow hardware overrides them.
public struct StepTimings: Hashable, Sendable, Codable {
    /// From power-on or reboot until the machine fetches its boot files: shorter than the check-in deadline so a
    /// machine that never reached PXE is power-cycled again early.
    public var pxeSeconds = 120
    public var checkInSeconds = 300
    public var ackSeconds = 60
    public var compileSeconds = 4 * 3600
    public var imageBuildSeconds = 1800
    public var imageWriteSeconds = 1800
    public var bootSeconds = 600
    public var checksSeconds = 300
    public var tortureSeconds = 60
    /// Power-cycles into PXE before Gold gives up and asks a person.
    public var pxeRetries = 2

    public init() {}

    /// These timings with a machine's overrides applied.
    public func applying(_ spec: DeadlineSpec?) -> StepTimings {
        guard let spec else { return self }
        var t = self
        t.pxeSeconds = spec.pxe ?? pxeSeconds
        t.pxeRetries = spec.pxeRetries ?? pxeRetries
        t.checkInSeconds = spec.checkIn ?? checkInSeconds
        t.ackSeconds = spec.ack ?? ackSeconds
        t.compileSeconds = spec.compile ?? compileSeconds
        t.imageBuildSeconds = spec.imageBuild ?? imageBuildSeconds
        t.imageWriteSeconds = spec.imageWrite ?? imageWriteSeconds
        t.bootSeconds = spec.boot ?? bootSeconds
        t.checksSeconds = spec.checks ?? checksSeconds
        t.tortureSeconds = spec.torture ?? tortureSeconds
        return t
    }
}

/// The operators' runbook (the seed's lists of steps), one function per workflow; each reads top to bottom.
public enum Runbook {
    public static func steps(
        for kind: WorkflowKind, timings t: StepTimings = StepTimings(), parameters: [String: String] = [:]
    ) -> [StepDefinition] {
        switch kind {
        case .provision: provision(t)
        case .restore: restore(t)
        case .kernelUpgrade: kernelUpgrade(t, kernel: parameters["kernel"] ?? "{kernel.release}")
        case .softwareUpdate:
            softwareUpdate(t, binary: parameters["binary"] ?? "", reboot: parameters["reboot"] == "true")
        case .capture: capture(t)
        }
    }

    static func intoNetboot(_ t: StepTimings, viaAgent: Bool) -> [StepDefinition] {
        let bootNetwork = StepDefinition("set the next boot to the network", .power(.bootNetwork), deadline: 60)
        let powerCycle = StepDefinition(
            "power-cycle into the netboot environment", .power(.cycle), awaits: .bootFetch,
            deadline: t.pxeSeconds, retries: t.pxeRetries)
        var steps = [StepDefinition("set netboot once", .setNextBoot(.netbootOnce(.deploy)), deadline: 30)]
        if viaAgent {
            steps.append(
                StepDefinition(
                    "send reboot request, wait for ack", .agent(.reboot(netboot: true)), deadline: t.ackSeconds,
                    onFailure: .fallback(
                        bootNetwork,
                        StepDefinition(
                            "power-cycle: the agent did not ack", .power(.cycle), awaits: .bootFetch,
                            deadline: t.pxeSeconds, retries: t.pxeRetries))))
            steps.append(
                StepDefinition(
                    "verify the machine fetches its boot files", .wait, awaits: .bootFetch, deadline: t.pxeSeconds,
                    onFailure: .fallback(bootNetwork, powerCycle)))
        } else {
            steps.append(bootNetwork)
            steps.append(
                StepDefinition(
                    "power on or cycle into the netboot environment", .power(.onOrCycle), awaits: .bootFetch,
                    deadline: t.pxeSeconds, retries: t.pxeRetries))
        }
        steps.append(
            StepDefinition(
                "verify check-in from the netboot environment", .wait, awaits: .netbootCheckIn,
                deadline: t.checkInSeconds))
        return steps
    }

    static func verifyAndTorture(_ t: StepTimings) -> [StepDefinition] {
        [
            StepDefinition("checks from the build server", .serverChecks, deadline: t.checksSeconds, retries: 2),
            StepDefinition("checks on the machine", .agent(.machineChecks), deadline: t.checksSeconds, retries: 1),
            StepDefinition(
                "torture test", .agent(.torture(seconds: t.tortureSeconds)), deadline: t.tortureSeconds + 120),
        ]
    }

    /// New machine: compile, build the image, netboot, write it, boot from disk, verify, torture, ready.
    public static func provision(_ t: StepTimings) -> [StepDefinition] {
        [
            StepDefinition("compile the machine's kernel and binaries", .compile, deadline: t.compileSeconds),
            StepDefinition("build the machine's image version", .buildImage, deadline: t.imageBuildSeconds),
            StepDefinition("mark provisioning", .setState(.provisioning), deadline: 30),
        ] + intoNetboot(t, viaAgent: false) + [
            StepDefinition(
                "write the image to the local disk", .agent(.writeImage(version: nil)), deadline: t.imageWriteSeconds,
                retries: 1),
            StepDefinition("set boot to disk", .power(.bootDisk), deadline: 60),
            StepDefinition(
                "reboot from the local disk", .agent(.reboot(netboot: false)), awaits: .bootSuccess(kernel: nil),
                deadline: t.bootSeconds,
                onFailure: .fallback(
                    StepDefinition(
                        "power-cycle: no boot success", .power(.cycle), awaits: .bootSuccess(kernel: nil),
                        deadline: t.bootSeconds))),
        ] + verifyAndTorture(t) + [StepDefinition("ready", .setState(.ready), deadline: 30)]
    }

    /// Restore: reboot into netboot, write the version (only differing chunks), boot from disk, verify, torture.
    public static func restore(_ t: StepTimings) -> [StepDefinition] {
        [StepDefinition("mark updating", .setState(.updating), deadline: 30)] + intoNetboot(t, viaAgent: true) + [
            StepDefinition(
                "write the image version (delta)", .agent(.writeImage(version: nil)), deadline: t.imageWriteSeconds,
                retries: 1),
            StepDefinition("set boot to disk", .power(.bootDisk), deadline: 60),
            StepDefinition(
                "reboot from the local disk", .agent(.reboot(netboot: false)), awaits: .bootSuccess(kernel: nil),
                deadline: t.bootSeconds,
                onFailure: .fallback(
                    StepDefinition(
                        "power-cycle: no boot success", .power(.cycle), awaits: .bootSuccess(kernel: nil),
                        deadline: t.bootSeconds))),
        ] + verifyAndTorture(t) + [StepDefinition("ready", .setState(.ready), deadline: 30)]
    }

    /// Kernel upgrade: the new kernel is a one-shot `next_entry`; without boot success the machine comes back on the
    /// old one (by itself after a panic, `panic=10`, or by a power-cycle after a hang), then a person is asked.
    /// `kernel` names the release to expect; by default the one the compile step reports (`{kernel.release}`).
    public static func kernelUpgrade(_ t: StepTimings, kernel: String) -> [StepDefinition] {
        [
            StepDefinition("compile the new kernel", .compile, deadline: t.compileSeconds),
            StepDefinition("mark updating", .setState(.updating), deadline: 30),
        ] + intoNetboot(t, viaAgent: true) + [
            StepDefinition(
                "copy the kernel files to the local disk; next boot only",
                .agent(.installKernel(artifact: "{kernel.artifact}")),
                deadline: t.checksSeconds, retries: 1),
            StepDefinition("set boot to disk", .power(.bootDisk), deadline: 60),
            StepDefinition("boot back to the local disk", .agent(.reboot(netboot: false)), deadline: t.ackSeconds),
            StepDefinition(
                "boot success from the new kernel", .wait, awaits: .bootSuccess(kernel: kernel),
                deadline: t.bootSeconds,
                onFailure: .recover(
                    StepDefinition(
                        "power-cycle: the old kernel boots by itself", .power(.cycle),
                        awaits: .bootSuccess(kernel: nil),
                        deadline: t.bootSeconds, skipIf: "kernel.fellBack"),
                    StepDefinition("collect the failed boot's logs", .agent(.collectLogs), deadline: t.checksSeconds),
                    StepDefinition(
                        "remove the bad kernel's entry", .agent(.removeKernel(release: kernel)),
                        deadline: t.checksSeconds))),
            StepDefinition(
                "promote the new kernel to the default", .agent(.promoteKernel(release: kernel)),
                deadline: t.checksSeconds),
        ] + verifyAndTorture(t) + [
            StepDefinition(
                "new image version with the same kernel change", .recordImageVersion(change: "kernel-upgrade"),
                deadline: t.imageBuildSeconds),
            StepDefinition("ready", .setState(.ready), deadline: 30),
        ]
    }

    /// Other software update: stop the services, back up and replace the binary, restart, test; restore on failure.
    public static func softwareUpdate(_ t: StepTimings, binary: String, reboot: Bool) -> [StepDefinition] {
        let restore = FailurePlan.recover(
            StepDefinition(
                "restore the backed-up binary", .agent(.restoreBinary(name: binary)), deadline: t.checksSeconds),
            StepDefinition("restart its services", .agent(.startServices(binary: binary)), deadline: t.checksSeconds),
            StepDefinition("verify the services again", .agent(.machineChecks), deadline: t.checksSeconds))
        var steps = [
            StepDefinition("compile the binary with the machine's flags", .compile, deadline: t.compileSeconds),
            StepDefinition("mark updating", .setState(.updating), deadline: 30),
        ]
        if reboot {
            steps += intoNetboot(t, viaAgent: true)
        } else {
            steps.append(
                StepDefinition(
                    "stop and mask the services that use it", .agent(.stopServices(binary: binary)),
                    deadline: t.checksSeconds))
        }
        steps += [
            StepDefinition(
                "back up the old binary and install the new one",
                .agent(.replaceBinary(name: binary, artifact: "{binary.\(binary).artifact}")),
                deadline: t.checksSeconds, onFailure: restore)
        ]
        if reboot {
            steps.append(StepDefinition("set boot to disk", .power(.bootDisk), deadline: 60))
            steps.append(
                StepDefinition(
                    "boot back to the local disk", .agent(.reboot(netboot: false)), awaits: .bootSuccess(kernel: nil),
                    deadline: t.bootSeconds, onFailure: restore))
        } else {
            steps.append(
                StepDefinition(
                    "restart the services", .agent(.startServices(binary: binary)), deadline: t.checksSeconds,
                    onFailure: restore))
        }
        steps += [
            StepDefinition(
                "test from the build server", .serverChecks, deadline: t.checksSeconds, retries: 1, onFailure: restore),
            StepDefinition(
                "test on the machine", .agent(.machineChecks), deadline: t.checksSeconds, onFailure: restore),
            StepDefinition(
                "new image version with the same change", .recordImageVersion(change: "software-update"),
                deadline: t.imageBuildSeconds),
            StepDefinition("ready", .setState(.ready), deadline: 30),
        ]
        return steps
    }

    /// Capture: reboot into netboot, read every disk into the store as a new version (only the chunks it lacks move),
    /// boot back from the disk, which was never written.
    public static func capture(_ t: StepTimings) -> [StepDefinition] {
        [StepDefinition("mark updating", .setState(.updating), deadline: 30)] + intoNetboot(t, viaAgent: true) + [
            StepDefinition(
                "capture the disks as a new image version", .agent(.captureImage), deadline: t.imageWriteSeconds,
                retries: 1),
            StepDefinition("set boot to disk", .power(.bootDisk), deadline: 60),
            StepDefinition(
                "reboot from the local disk", .agent(.reboot(netboot: false)), awaits: .bootSuccess(kernel: nil),
                deadline: t.bootSeconds,
                onFailure: .fallback(
                    StepDefinition(
                        "power-cycle: no boot success", .power(.cycle), awaits: .bootSuccess(kernel: nil),
                        deadline: t.bootSeconds))),
            StepDefinition("ready", .setState(.ready), deadline: 30),
        ]
    }
}
