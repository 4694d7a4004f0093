/// The body of every error response: `{"error": {"code": …, "message": …, "location": …, "problems": […]}}`.
public struct ErrorBody: Codable, Sendable, Hashable {
    public struct Detail: Codable, Sendable, Hashable {
        /// A `GoldError.Code`'s raw value.
        public var code: String
        public var message: String
        /// The field at fault: `body.machines[2].macs[0]`, `query.limit`, `path.name`.
        public var location: String?
        /// Every problem found, when validation found several.
        public var problems: [String]?

        public init(code: String, message: String, location: String? = nil, problems: [String]? = nil) {
            self.code = code
            self.message = message
            self.location = location
            self.problems = problems
        }
    }

    public var error: Detail

    public init(error: Detail) { self.error = error }
}
