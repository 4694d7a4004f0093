import Foundation
import GoldCore
import GoldDirector
import GoldSQLite
import GoldServer
import GoldSpawn
import Hummingbird
import Logging
import Testing
import Yams

@Suite struct OpenAPITests {
    /// The document passes openapi-spec-validator (PyPI; scripts/setup.sh installs it): a description with an unquoted
    /// comma once turned into extra keys of a response object and failed it.
    @Test func theDocumentValidates() async throws {
        let validator = "/opt/gold/apitools/bin/openapi-spec-validator"
        try #require(FileManager.default.isExecutableFile(atPath: validator), "scripts/setup.sh installs \(validator)")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "gold-openapi-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try OpenAPIDocument.text.write(to: file, atomically: true, encoding: .utf8)
        let result = try await Spawn.run(validator, [file.path], timeout: .seconds(120))
        #expect(result.exitCode == 0, "\(result.output.suffix(2000))")
        #expect(result.output.contains(": OK"))
    }

    @Test func routesAndDocumentAgree() throws {
        let director = Director(
            store: try SQLiteStore(), registry: GoldProcess.Metrics.registry, logger: Logger(label: "t"))
        let routes = Set(director.makeRouter().routes.map(\.description))
        let document = try #require(try Yams.load(yaml: OpenAPIDocument.text) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: Any])
        var documented: Set<String> = []
        for (path, value) in paths {
            for method in (value as? [String: Any] ?? [:]).keys {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        #expect(
            normalise(routes) == documented,
            "in the router only: \(normalise(routes).subtracting(documented)); in the document only: \(documented.subtracting(normalise(routes)))"
        )
    }

    /// Hummingbird prints parameters as `{name}` or `:name` depending on version: compare as `{name}`.
    func normalise(_ routes: Set<String>) -> Set<String> {
        Set(
            routes.map { route in
                route.split(separator: "/", omittingEmptySubsequences: false).map { part in
                    part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
                }.joined(separator: "/")
            })
    }
}
