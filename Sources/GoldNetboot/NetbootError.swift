/// An error from building or describing the netboot environment; `message` names the file, tool or field.
public struct NetbootError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, as a value callers can compare without a closed `switch`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: String { case missingInput, missingTool, toolFailed, badInput, io }
        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }
        /// A kernel, module, agent binary or other input file is missing.
        public static let missingInput = Code(.missingInput)
        /// A tool is not installed on the build host (the message names its Debian package).
        public static let missingTool = Code(.missingTool)
        /// A tool ran and failed.
        public static let toolFailed = Code(.toolFailed)
        /// A value cannot be used (for example a space in a kernel command-line value).
        public static let badInput = Code(.badInput)
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

    public var description: String { "netboot: \(message)" }
}
