/// An error for people: it names what was wrong (a file, a line, a field, a machine) and what would fix it.
///
/// `code` wraps a private enum so that new kinds of error break no caller's `switch`.
public struct GoldError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Hashable, Sendable {
            case invalidInput = "invalid input"
            case notFound = "not found"
            case conflict = "conflict"
            case unauthorized = "unauthorized"
            case forbidden = "forbidden"
            case unavailable = "unavailable"
            case tooMany = "too many"
            case tooLarge = "too large"
            case io = "i/o"
            case internalError = "internal error"
        }
        fileprivate let base: Base
        public static let invalidInput = Code(base: .invalidInput)
        public static let notFound = Code(base: .notFound)
        public static let conflict = Code(base: .conflict)
        public static let unauthorized = Code(base: .unauthorized)
        public static let forbidden = Code(base: .forbidden)
        public static let unavailable = Code(base: .unavailable)
        /// A quota or rate: too many at once (HTTP 429).
        public static let tooMany = Code(base: .tooMany)
        /// More bytes than a limit takes (HTTP 413).
        public static let tooLarge = Code(base: .tooLarge)
        public static let io = Code(base: .io)
        public static let internalError = Code(base: .internalError)
        public var description: String { base.rawValue }
    }

    public var code: Code
    /// One line for a person: what was wrong and, where it helps, what is allowed.
    public var message: String
    /// Where it happened: `fleet.yaml:12 machines[0].disks[0].size`, a machine name, a URL.
    public var location: String?

    public init(_ code: Code, _ message: String, at location: String? = nil) {
        self.code = code
        self.message = message
        self.location = location
    }

    public var description: String {
        if let location { return "\(location): \(message)" }
        return message
    }
}
