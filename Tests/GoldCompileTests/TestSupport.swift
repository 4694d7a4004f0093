import Foundation
import GoldCompile
import GoldCore
import GoldSpawn
import GoldTestSupport

/// A clock the test moves by hand.
final class TestClock: CompileClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_700_000_000)

    func now() -> Date { lock.withLock { current } }
    func advance(seconds: TimeInterval) { lock.withLock { current += seconds } }
}

/// A directory removed when the test is done.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "gold-compile-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ relative: String, _ text: String, mode: Int = 0o644) throws {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: full)
    }
}

/// Runs real commands and records them, so a test can prove nothing was built.
func countingRunner() -> ScriptedRunner { ScriptedRunner { _ in nil } }

/// A scripted runner: every tool is "installed", `gcc --version` answers, `respond` decides every other result and
/// may write files.
func fakeRunner(
    respond: @escaping @Sendable (Invocation) throws -> InvocationResult = { _ in InvocationResult(exitCode: 0) }
) -> ScriptedRunner {
    ScriptedRunner(
        locate: { "/usr/bin/\($0)" },
        script: { command in
            if command.arguments.last == "--version" {
                return InvocationResult(exitCode: 0, stdout: "gcc (Test) 1.0\nmore\n")
            }
            return try respond(command)
        })
}

extension Invocation {
    /// The build log a step appends to.
    var logFile: String? { if case .appendedTo(let file) = output { file } else { nil } }
}

/// Fails with a message naming the Debian package when a tool the test needs is missing.
func requireFile(_ path: String, package: String) throws {
    guard FileManager.default.fileExists(atPath: path) else {
        throw CompileError(.missingTool, "\(path) is missing: apt-get install \(package)")
    }
}

func machine(_ name: String, march: String = "x86-64", kernel: KernelSpec? = nil, binaries: [BinarySpec] = [])
    -> MachineSpec
{
    MachineSpec(
        name: name, macs: [], cpu: CPUSpec(march: march), kernel: kernel, binaries: binaries)
}

/// Waits (polling, no time limit) until the queue reports the job in a state `done` accepts.
func waitFor(_ queue: any CompileQueue, _ key: CacheKey, _ done: (CompileJobState) -> Bool) async throws
    -> CompileJobStatus
{
    while true {
        if let status = try await queue.status(key), done(status.state) { return status }
        try await Task.sleep(for: .milliseconds(20))
    }
}
