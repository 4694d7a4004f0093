import Foundation
import GoldCore

/// What a finished subprocess left behind.
public struct ImageCommandResult: Sendable, Equatable {
    public var exitCode: Int32
    public var stdout: String
    public var stderr: String

    public init(exitCode: Int32, stdout: String = "", stderr: String = "") {
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Runs the image tools (`sfdisk`, `mkfs.ext4`, `mcopy`, `grub-mkimage`, `qemu-img`, …).
///
/// The live implementation is ``ProcessCommandRunner``; unit tests substitute a scripted one. Named apart from
/// GoldPower's `CommandRunner` so a module importing both needs no qualification.
public protocol ImageCommandRunner: Sendable {
    /// Runs `program` with `arguments`, feeding `input` on stdin. Throws only when it cannot start.
    func run(_ program: String, _ arguments: [String], environment: [String: String], input: Data?) async throws
        -> ImageCommandResult
}

/// The Debian package that ships each tool, for "install X" messages.
enum ToolPackage {
    static let packages: [String: String] = [
        "sfdisk": "fdisk", "mkfs.ext4": "e2fsprogs", "debugfs": "e2fsprogs", "dumpe2fs": "e2fsprogs",
        "tune2fs": "e2fsprogs",
        "mkfs.vfat": "dosfstools",
        "mcopy": "mtools", "mkswap": "util-linux", "grub-mkimage": "grub-common",
        "grub-editenv": "grub-common", "qemu-img": "qemu-utils", "mmdebstrap": "mmdebstrap", "tar": "tar",
        "cp": "coreutils", "find": "findutils", "touch": "coreutils",
    ]
    static func package(for program: String) -> String { packages[program] ?? program }
}

extension ImageCommandRunner {
    /// Runs a tool and throws a ``GoldError`` naming it (and its Debian package when missing) unless it exits 0.
    @discardableResult
    func check(
        _ program: String, _ arguments: [String], environment: [String: String] = [:], input: Data? = nil,
        context: String
    ) async throws -> ImageCommandResult {
        let result: ImageCommandResult
        do {
            result = try await run(program, arguments, environment: environment, input: input)
        } catch {
            throw GoldError(
                .unavailable, "\(program) is not installed (Debian package \(ToolPackage.package(for: program)))",
                at: context)
        }
        guard result.exitCode == 0 else {
            let detail = (result.stderr.isEmpty ? result.stdout : result.stderr)
                .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").suffix(3)
                .joined(separator: " | ")
            throw GoldError(.io, "\(program) failed (exit \(result.exitCode)): \(detail)", at: context)
        }
        return result
    }
}

/// Runs tools as Foundation `Process`es with stdout and stderr collected.
public struct ProcessCommandRunner: ImageCommandRunner {
    public init() {}

    public func run(_ program: String, _ arguments: [String], environment: [String: String], input: Data?)
        async throws -> ImageCommandResult
    {
        guard let path = Self.locate(program) else { throw GoldError(.unavailable, "\(program): not found in PATH") }
        // Threads of their own, never Dispatch's global pool: a command needs its stdin writer and both output
        // readers running at once, and with the pool's threads all blocked elsewhere (a busy test run did that)
        // the writer never ran, sfdisk waited for its script and the run hung.
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    continuation.resume(returning: try Self.runBlocking(path, arguments, environment, input))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// The absolute path of `program`, searched in PATH plus the sbin directories.
    public static func locate(_ program: String) -> String? {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/local/sbin"]
        return dirs.map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private static func runBlocking(
        _ path: String, _ arguments: [String], _ environment: [String: String], _ input: Data?
    )
        throws -> ImageCommandResult
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            Thread.detachNewThread {
                try? stdin.fileHandleForWriting.write(contentsOf: input)
                try? stdin.fileHandleForWriting.close()
            }
        }
        let readersDone = DispatchSemaphore(value: 0)
        let box = OutputBox()
        for (pipe, isOut) in [(out, true), (err, false)] {
            Thread.detachNewThread {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                box.set(String(decoding: data, as: UTF8.self), isOut)
                readersDone.signal()
            }
        }
        // The readers end when the command exits and closes its output; waiting for them first keeps
        // Foundation's waitUntilExit, which busy-polls its run loop, from spinning a CPU while the command runs.
        readersDone.wait()
        readersDone.wait()
        process.waitUntilExit()
        let (o, e) = box.get()
        return ImageCommandResult(exitCode: process.terminationStatus, stdout: o, stderr: e)
    }
}

private final class OutputBox: @unchecked Sendable {
    private let lock = NSLock()
    private var out = ""
    private var err = ""
    func set(_ text: String, _ isOut: Bool) {
        lock.withLock { if isOut { out = text } else { err = text } }
    }
    func get() -> (String, String) { lock.withLock { (out, err) } }
}
