import GoldSpawn

extension Invocation {
    /// A build step: `argv` run in `directory` with `environment` set over this process's (the build's PATH decides
    /// which `gcc` runs: Debian's ccache wrappers first), output appended to `logFile` when given, else collected.
    /// Cancelling the calling task kills the step's whole process group.
    public static func build(
        _ argv: [String], in directory: String, environment: [String: String] = [:], logFile: String? = nil,
        timeout: Duration = .seconds(600)
    ) -> Invocation {
        Invocation(
            argv.first ?? "", Array(argv.dropFirst()), environment: .inherited(adding: environment),
            workingDirectory: directory, output: logFile.map { .appendedTo($0) } ?? .merged, timeout: timeout)
    }
}
