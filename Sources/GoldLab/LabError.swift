/// A lab operation that cannot go on, with a message saying what to do about it.
public struct LabError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure; compare with the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case alreadyUp = "lab already up"
            case missingTool = "missing tool"
            case notRoot = "not root"
            case invalidSpec = "invalid machine spec"
            case commandFailed = "command failed"
            case conflict = "conflict"
            case stateUnreadable = "state unreadable"
            case notUp = "no lab up"
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// `up` found a lab state file: a lab is up already.
        public static let alreadyUp = Code(.alreadyUp)
        /// A program or firmware file is missing; the message names the Debian package.
        public static let missingTool = Code(.missingTool)
        /// Network namespaces and taps need root.
        public static let notRoot = Code(.notRoot)
        /// The machine list is inconsistent (duplicate names or MACs, no disks, …).
        public static let invalidSpec = Code(.invalidSpec)
        /// A subprocess (ip, qemu-img, qemu) failed; the message carries its stderr.
        public static let commandFailed = Code(.commandFailed)
        /// Something the lab would create exists already and is not the lab's.
        public static let conflict = Code(.conflict)
        /// The state file exists but cannot be read.
        public static let stateUnreadable = Code(.stateUnreadable)
        /// An operation needs a lab and none is up.
        public static let notUp = Code(.notUp)
        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "lab: \(message)" }
}
