import Foundation

/// A scratch directory removed when the value goes away.
final class TestDirectory: @unchecked Sendable {
    let url: URL

    init(_ name: String = "gold-image-test") throws {
        url = URL(fileURLWithPath: "/tmp/gold-image-tests").appendingPathComponent(
            "\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ component: String) -> URL { url.appendingPathComponent(component) }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Runs a program and returns its stdout; fails the caller when it exits non-zero.
@discardableResult
func sh(_ command: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    let out = Pipe()
    process.standardOutput = out
    let err = Pipe()
    process.standardError = err
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ShellError(
            command: command, status: process.terminationStatus, stderr: String(decoding: errData, as: UTF8.self))
    }
    return String(decoding: data, as: UTF8.self)
}

struct ShellError: Error, CustomStringConvertible {
    var command: String
    var status: Int32
    var stderr: String
    var description: String { "`\(command)` exited \(status): \(stderr)" }
}

/// Fails with the Debian package to install when a tool is missing.
func requireTool(_ path: String, package: String) throws {
    guard FileManager.default.isExecutableFile(atPath: path) || FileManager.default.fileExists(atPath: path) else {
        throw ShellError(
            command: path, status: 127, stderr: "\(path) is missing: install the Debian package \(package)")
    }
}
