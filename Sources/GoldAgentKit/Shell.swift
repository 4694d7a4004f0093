import Foundation
import GoldSpawn

/// Runs a program with arguments (never a shell line), with a deadline; output is captured.
public struct ProgramResult: Sendable {
    public var exitCode: Int32
    public var output: String
}

public protocol ProgramRunner: Sendable {
    func run(_ program: String, _ arguments: [String], timeout: Duration) async throws -> ProgramResult
}

/// Programs run through `Spawn`: own process group, signals unblocked, SIGKILL at the deadline.
public struct LiveProgramRunner: ProgramRunner {
    public init() {}

    public func run(_ program: String, _ arguments: [String], timeout: Duration) async throws -> ProgramResult {
        do {
            let result = try await Spawn.run(program, arguments, timeout: timeout)
            return ProgramResult(exitCode: result.exitCode, output: result.output + (result.timedOut ? "\n(killed after \(timeout))" : ""))
        } catch let error as SpawnError {
            throw AgentError(error.description)
        }
    }
}

public struct AgentError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
