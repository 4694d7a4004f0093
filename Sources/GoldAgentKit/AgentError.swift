import Foundation

/// An error the agent reports to the director as a failed command's detail.
public struct AgentError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
