/// An error from the compile server; `message` names the job, file, option or tool and what would fix it.
public struct CompileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, as a value callers can compare without a closed `switch`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String { case badInput, missingInput, missingTool, toolFailed, leaseLost, notFound, io }
        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }
        /// A spec value cannot be compiled (an unknown source scheme, `-march=native`, a bad fragment).
        public static let badInput = Code(.badInput)
        /// A source tarball, directory, repository or config file is missing.
        public static let missingInput = Code(.missingInput)
        /// A tool is not installed on the compile server (the message names its Debian package).
        public static let missingTool = Code(.missingTool)
        /// A build step ran and failed, or a requested option did not survive into the final config.
        public static let toolFailed = Code(.toolFailed)
        /// The worker no longer holds the job's lease (it expired and was leased again, or the job was cancelled).
        public static let leaseLost = Code(.leaseLost)
        /// No such job or artifact.
        public static let notFound = Code(.notFound)
        /// Reading or writing a file failed.
        public static let io = Code(.io)
        public var description: String { kind.rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "compile: \(message)" }
}
