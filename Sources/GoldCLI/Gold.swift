import ArgumentParser
import GoldSpawn

/// `gold`: the command line and every server of a Gold fleet.
public struct Gold: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gold",
        abstract: "Build, deploy and upgrade a fleet of bare-metal machines.",
        version: "0.1.0",
        subcommands: [
            Init.self, Serve.self, MachineCommand.self, ImageCommand.self, JobCommand.self, FleetCommand.self,
            Events.self, TokenCommand.self, TFTPCommand.self,
            Provision.self, Restore.self, KernelCommand.self, Update.self, RolloutCommand.self, WorkflowCommand.self,
            Interventions.self, LabCommand.self, Doctor.self,
        ]
    )

    public init() {}
}

/// The `gold` executable's entry point.
public enum GoldMain {
    public static func run() async {
        StandardOutput.lineBuffered()
        await Gold.main()
    }
}
