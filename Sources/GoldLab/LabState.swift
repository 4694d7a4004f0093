import Foundation

/// What a lab has created, written to `lab.json` after every step of `up` so `down` can undo a half-made lab.
public struct LabState: Sendable, Codable, Hashable {
    /// A VM and its QEMU process.
    public struct Machine: Sendable, Codable, Hashable {
        public var machine: LabMachine
        /// QEMU's pid once started.
        public var pid: Int32?
    }

    public var configuration: LabConfiguration
    public var accelerator: Accelerator?
    public var acceleratorReason: String?
    public var namespaceCreated = false
    public var bridgeCreated = false
    public var taps: [String] = []
    /// The host side of the veth into the namespace, when one was made.
    public var uplink: String?
    /// Gold's own server processes in the lab (started by `gold lab up`), stopped by `down`.
    public var goldPids: [Int32] = []
    public var machines: [Machine] = []
    public var createdAt: Date

    public init(configuration: LabConfiguration, createdAt: Date = Date()) {
        self.configuration = configuration
        self.createdAt = createdAt
    }

    static func load(_ path: String) throws -> LabState? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(LabState.self, from: data)
        } catch {
            throw LabError(
                .stateUnreadable, "state file \(path) is unreadable (\(error)); inspect it, then remove it by hand")
        }
    }

    func save() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(self).write(to: URL(fileURLWithPath: configuration.stateFile), options: .atomic)
    }
}
