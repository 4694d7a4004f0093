import Foundation

/// The result of running a host tool.
public struct CommandResult: Sendable, Equatable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String = "", stderr: String = "") {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Runs host tools (ldd, depmod, gzip, busybox); tests substitute a fake.
public protocol CommandRunner: Sendable {
    /// Runs `executable` with `arguments`; `stdinFile`/`stdoutFile` redirect the streams to files when given.
    func run(_ executable: String, _ arguments: [String], stdinFile: String?, stdoutFile: String?) throws
        -> CommandResult
    /// The absolute path of `tool` on the build host, or nil.
    func which(_ tool: String) -> String?
}

extension CommandRunner {
    func run(_ executable: String, _ arguments: [String]) throws -> CommandResult {
        try run(executable, arguments, stdinFile: nil, stdoutFile: nil)
    }
}

/// Runs tools with Foundation's `Process`.
public struct ProcessCommandRunner: CommandRunner {
    /// Where `which` looks, in order.
    public var searchPath: [String]

    public init(searchPath: [String] = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"])
    {
        self.searchPath = searchPath
    }

    public func which(_ tool: String) -> String? {
        if tool.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: tool) ? tool : nil }
        return searchPath.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public func run(_ executable: String, _ arguments: [String], stdinFile: String?, stdoutFile: String?) throws
        -> CommandResult
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LC_ALL"] = "C"
        process.environment = environment
        let errPipe = Pipe()
        process.standardError = errPipe
        let outPipe = Pipe()
        var outHandle: FileHandle?
        if let stdoutFile {
            guard FileManager.default.createFile(atPath: stdoutFile, contents: nil),
                let handle = FileHandle(forWritingAtPath: stdoutFile)
            else {
                throw NetbootError(.io, "cannot create \(stdoutFile)")
            }
            outHandle = handle
            process.standardOutput = handle
        } else {
            process.standardOutput = outPipe
        }
        var inHandle: FileHandle?
        if let stdinFile {
            guard let handle = FileHandle(forReadingAtPath: stdinFile) else {
                throw NetbootError(.io, "cannot read \(stdinFile)")
            }
            inHandle = handle
            process.standardInput = handle
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        defer {
            try? outHandle?.close()
            try? inHandle?.close()
        }
        do { try process.run() } catch {
            throw NetbootError(.missingTool, "cannot run \(executable): \(error)")
        }
        // Read both pipes before waiting so a chatty tool cannot block on a full pipe.
        let errData = LockedData()
        let errThread = Thread { errData.set(errPipe.fileHandleForReading.readDataToEndOfFile()) }
        errThread.start()
        let out = stdoutFile == nil ? outPipe.fileHandleForReading.readDataToEndOfFile() : Data()
        process.waitUntilExit()
        let err = errData.waitForValue()
        return CommandResult(
            status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err, as: UTF8.self))
    }
}

/// A value handed from the stderr reader thread to the caller.
private final class LockedData: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Data?

    func set(_ data: Data) {
        condition.lock()
        value = data
        condition.signal()
        condition.unlock()
    }

    func waitForValue() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while value == nil { condition.wait() }
        return value!
    }
}
