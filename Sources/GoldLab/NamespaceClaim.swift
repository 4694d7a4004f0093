import Foundation

/// Who made a lab's network namespace, recorded beside it so a later `up` can tell a namespace left behind by a
/// killed lab (reclaimed) from one that belongs to someone else or is still in use (refused).
///
/// The record lives under `/run` (cleared at boot, like the namespaces themselves) and is written before the
/// namespace is created, so a lab killed at any point leaves either no namespace or a recorded one.
public struct NamespaceOwner: Codable, Sendable, Equatable {
    /// The state file of the lab that made the namespace.
    public var stateFile: String
    /// The process that ran `up`.
    public var pid: Int32
    public var createdAt: Date
    /// False from just before `ip netns add` until it succeeded: a namespace found while this is false was not
    /// made by that lab.
    public var namespaceCreated: Bool

    public init(stateFile: String, pid: Int32, createdAt: Date, namespaceCreated: Bool) {
        self.stateFile = stateFile
        self.pid = pid
        self.createdAt = createdAt
        self.namespaceCreated = namespaceCreated
    }

    /// Whether the process that made the namespace still runs (a lab coming up has no process inside yet).
    var processAlive: Bool { kill(self.pid, 0) == 0 || errno == EPERM }

    static func path(directory: String, namespace: String) -> String { directory + "/" + namespace + ".owner.json" }

    static func load(_ path: String) -> NamespaceOwner? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(NamespaceOwner.self, from: data)
    }

    func save(_ path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

/// What `up` does about a namespace of its name that exists while it has no state file. A pure decision.
enum NamespaceClaim: Equatable {
    /// A lab made it, and nothing runs in it any more: delete it and go on. The text says whose it was.
    case reclaim(String)
    /// Someone else's, or still in use: refuse, saying what to do.
    case refuse(String)

    static func decide(
        namespace: String, owner: NamespaceOwner?, ownerRecord: String, ownerAlive: Bool, pidsInside: [Int32]
    ) -> NamespaceClaim {
        guard let owner, owner.namespaceCreated else {
            return .refuse(
                "network namespace \(namespace) exists and no Gold lab recorded making it (\(ownerRecord) "
                    + (owner == nil ? "is missing" : "says the lab never got to make it")
                    + "): it is not a lab's; remove it (ip netns del \(namespace)) or choose another name")
        }
        guard !ownerAlive else {
            return .refuse(
                "network namespace \(namespace) was made by the lab with state \(owner.stateFile), whose process "
                    + "\(owner.pid) still runs (a lab coming up?): wait for it, or take that lab down first")
        }
        guard pidsInside.isEmpty else {
            return .refuse(
                "network namespace \(namespace) was made by the lab with state \(owner.stateFile) and processes still "
                    + "run in it (pids \(pidsInside.map(String.init).joined(separator: " "))): take that lab down first "
                    + "(gold lab down with its state directory) or choose another name")
        }
        return .reclaim(
            "network namespace \(namespace) was left by the lab with state \(owner.stateFile) (made by pid \(owner.pid) "
                + "at \(ISO8601DateFormatter().string(from: owner.createdAt))) and nothing runs in it any more; removing it"
        )
    }
}
