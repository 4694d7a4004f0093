import Foundation
import GoldSpawn

/// One job's build directory, log and step timings. `build/` is emptied before every job (a fresh work dir);
/// `ccache/` beside it survives, so a job whose key changed still reuses unchanged objects.
final class BuildSession {
    let runner: any ProgramRunner
    let buildDir: String
    let sourceDir: String
    let outputDir: String
    let logFile: String
    let environment: [String: String]
    let timeout: Duration
    private(set) var durations: [String: Double] = [:]

    init(runner: any ProgramRunner, workDir: String, useCcache: Bool, timeout: Duration) throws {
        self.runner = runner
        self.timeout = timeout
        buildDir = workDir + "/build"
        sourceDir = buildDir + "/src"
        outputDir = buildDir + "/out"
        logFile = buildDir + "/build.log"
        let fm = FileManager.default
        try? fm.removeItem(atPath: buildDir)
        for dir in [sourceDir, outputDir, workDir + "/ccache"] {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        guard fm.createFile(atPath: logFile, contents: nil) else { throw CompileError(.io, "cannot create \(logFile)") }
        var path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        // Debian's ccache package puts compiler-named wrappers here; first on PATH, `gcc` is ccache'd gcc.
        let ccache = useCcache && fm.fileExists(atPath: "/usr/lib/ccache/gcc")
        if ccache { path = "/usr/lib/ccache:" + path }
        environment = [
            "PATH": path, "HOME": workDir, "LC_ALL": "C", "TZ": "UTC", "SOURCE_DATE_EPOCH": "0",
            "CCACHE_DIR": workDir + "/ccache", "CCACHE_BASEDIR": buildDir, "CCACHE_NOHASHDIR": "1",
        ]
        note(ccache ? "ccache: \(workDir)/ccache" : "ccache: not used (apt-get install ccache)")
    }

    /// Appends a line of the worker's own to the build log.
    func note(_ text: String) {
        guard let handle = FileHandle(forWritingAtPath: logFile) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data("gold-compile: \(text)\n".utf8))
    }

    /// Runs a step with its output in the build log; a non-zero exit throws a failure naming the step.
    func run(_ step: String, _ argv: [String], in directory: String? = nil, environment extra: [String: String] = [:])
        async throws
    {
        note("[\(step)] \(argv.joined(separator: " "))")
        let started = ContinuousClock.now
        let result = try await runner.run(
            .build(
                argv, in: directory ?? sourceDir, environment: environment.merging(extra) { $1 }, logFile: logFile,
                timeout: timeout))
        if Task.isCancelled { throw CancellationError() }
        durations[step, default: 0] += (ContinuousClock.now - started).timeInterval
        if result.timedOut { throw StepFailure(step: step, message: "timed out after \(timeout)") }
        guard result.exitCode == 0 else {
            throw StepFailure(
                step: step,
                message: "\(argv.prefix(3).joined(separator: " ")) exited \(result.exitCode); log tail:\n\(logTail())")
        }
    }

    /// Runs a command and returns its output (not logged).
    func output(_ step: String, _ argv: [String]) async throws -> String {
        let result = try await runner.run(.build(argv, in: sourceDir, environment: environment, timeout: timeout))
        guard result.exitCode == 0 else {
            throw StepFailure(
                step: step,
                message: "\(argv.joined(separator: " ")) exited \(result.exitCode): \(result.output.prefix(500))")
        }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func time(_ step: String, since started: ContinuousClock.Instant) {
        durations[step, default: 0] += (ContinuousClock.now - started).timeInterval
    }

    /// Puts the source into `src/`: a tarball (one top-level directory stripped), a directory, or a git commit.
    func unpack(_ source: SourceInput) async throws {
        switch source.layout {
        case .tarball:
            let raw = buildDir + "/unpack"
            try FileManager.default.createDirectory(atPath: raw, withIntermediateDirectories: true)
            try await run("unpack", ["tar", "-xf", source.path, "-C", raw])
            try adopt(raw)
        case .directory:
            try await run("unpack", ["cp", "-a", source.path + "/.", sourceDir])
        case .git:
            let archive = buildDir + "/source.tar"
            try await run(
                "unpack", ["git", "-C", source.path, "archive", "--format=tar", "-o", archive, source.commit ?? "HEAD"])
            try await run("unpack", ["tar", "-xf", archive, "-C", sourceDir])
            try? FileManager.default.removeItem(atPath: archive)
        }
    }

    /// Moves an unpacked tree into `src/`, stripping a single top-level directory.
    private func adopt(_ raw: String) throws {
        let fm = FileManager.default
        let top = try fm.contentsOfDirectory(atPath: raw)
        var isDir: ObjCBool = false
        let root =
            top.count == 1 && fm.fileExists(atPath: raw + "/" + top[0], isDirectory: &isDir) && isDir.boolValue
            ? raw + "/" + top[0] : raw
        try fm.removeItem(atPath: sourceDir)
        try fm.moveItem(atPath: root, toPath: sourceDir)
        try? fm.removeItem(atPath: raw)
    }

    func logTail(lines: Int = 30) -> String {
        let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

/// A build step that failed; becomes the job's `CompileFailure`.
struct StepFailure: Error {
    var step: String
    var message: String
    var missingOptions: [String] = []
    var failure: CompileFailure { CompileFailure(step: step, message: message, missingOptions: missingOptions) }
}
