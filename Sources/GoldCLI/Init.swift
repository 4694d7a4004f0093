import ArgumentParser
import GoldServer

extension Gold {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the data directory, its gold.yaml, the store and the first admin token.")

        @Option(help: ArgumentHelp("Where Gold keeps its store and files.", valueName: "dir"))
        var dataDir = "/var/lib/gold"

        @OptionGroup var output: OutputOptions

        func run() async throws {
            let result = try await Initializer.run(dataDir: dataDir)
            if output.json { return try printJSON(result) }
            if result.created {
                print(
                    "initialised \(result.dataDir): configuration \(result.configFile), admin token in \(result.tokenFile) (mode 0600)"
                )
            } else {
                print("\(result.dataDir) is already initialised (admin token in \(result.tokenFile)); nothing changed")
            }
        }
    }
}
