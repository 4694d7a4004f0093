import Foundation
import GoldHTTPClient
import Testing

@testable import GoldDirector

@Suite struct MethodNotAllowedTests {
    @Test func aKnownPathWithAnotherMethodIs405WithAllow() async throws {
        try await DirectorHarness.with { gold in
            let trace = try await gold.call("TRACE", "/v1/machines", as: "viewer")
            #expect(trace.status == 405)
            #expect(trace.header("Allow") == "GET")
            let put = try await gold.call("PUT", "/v1/tokens/tok-x", as: "admin")
            #expect(put.status == 405 && put.header("Allow") == "DELETE")
            // The most specific route decides: captures take POST only, though /v1/images/{m}/{version} takes GET.
            let options = try await gold.call("OPTIONS", "/v1/images/web-01/captures", as: "viewer")
            #expect(options.status == 405 && options.header("Allow") == "POST")
            // An unknown path stays a 404, and a route's own "not found" (a missing machine) too.
            #expect(try await gold.call("GET", "/v1/nothing-here", as: "viewer").status == 404)
            #expect(try await gold.call("GET", "/v1/machines/nope", as: "viewer").status == 404)
            #expect(try await gold.call("GET", "/v1/machines", as: "viewer").status == 200)
        }
    }

    @Test(arguments: [
        ("/v1/machines/{name}", "/v1/machines/web-01", true), ("/v1/machines/{name}", "/v1/machines", false),
        ("/v1/machines/{name}", "/v1/machines/a/b", false), ("/v1/**", "/v1/a/b/c", true),
        ("/healthz", "/healthz", true),
    ])
    func patterns(pattern: String, path: String, matches: Bool) {
        typealias Routes = MethodNotAllowedMiddleware<DirectorContext>.Routes
        #expect(Routes.matches(Routes.segments(pattern), Routes.segments(path)) == matches)
    }
}
