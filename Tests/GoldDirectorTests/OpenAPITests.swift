import GoldCore
import GoldDirector
import GoldServer
import GoldSQLite
import Hummingbird
import Logging
import Testing
import Yams

@Suite struct OpenAPITests {
    @Test func routesAndDocumentAgree() throws {
        let director = Director(store: try SQLiteStore(), registry: GoldProcess.Metrics.registry, logger: Logger(label: "t"))
        let routes = Set(director.makeRouter().routes.map(\.description))
        let document = try #require(try Yams.load(yaml: OpenAPIDocument.text) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: Any])
        var documented: Set<String> = []
        for (path, value) in paths {
            for method in (value as? [String: Any] ?? [:]).keys {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        #expect(normalise(routes) == documented, "in the router only: \(normalise(routes).subtracting(documented)); in the document only: \(documented.subtracting(normalise(routes)))")
    }

    /// Hummingbird prints parameters as `{name}` or `:name` depending on version: compare as `{name}`.
    func normalise(_ routes: Set<String>) -> Set<String> {
        Set(routes.map { route in
            route.split(separator: "/", omittingEmptySubsequences: false).map { part in
                part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
            }.joined(separator: "/")
        })
    }
}
