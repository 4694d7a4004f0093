import Foundation
import GoldCore
import GoldHTTPClient
import Testing

@Suite(.serialized) struct DirectorAPITests {
    @Test func noTokenIs401WithAReason() async throws {
        try await DirectorHarness.with { (d: DirectorHarness) async throws in
            let response = try await d.call("GET", "/v1/machines")
            #expect(response.status == 401)
            #expect(response.header("WWW-Authenticate") == "Bearer")
            #expect(response.text.contains("a bearer token is required"))
            #expect(try await d.call("GET", "/v1/machines", token: "gold_wrong").status == 401)
            #expect(try await d.call("GET", "/v1/machines", token: nil, body: nil).status == 401)
        }
    }

    @Test func revokedTokenIs401() async throws {
        try await DirectorHarness.with { (d: DirectorHarness) async throws in
            #expect(try await d.call("GET", "/v1/machines", as: "viewer").status == 200)
            #expect(try await d.call("DELETE", "/v1/tokens/tok-viewer", as: "admin").status == 204)
            #expect(try await d.call("GET", "/v1/machines", as: "viewer").status == 401)
        }
    }

    /// (token, method, path, body, expected status)
    static let matrix: [(String, String, String, String?, Int)] = [
        ("viewer", "GET", "/v1/machines", nil, 200),
        ("viewer", "GET", "/v1/machines/web-01", nil, 200),
        ("viewer", "GET", "/v1/machines/nope", nil, 404),
        ("viewer", "POST", "/v1/fleet/apply", "machines: []", 403),
        ("operator", "POST", "/v1/fleet/apply?dry_run=true", "machines: []", 200),
        ("viewer", "GET", "/v1/tokens", nil, 403),
        ("operator", "GET", "/v1/tokens", nil, 403),
        ("operator", "POST", "/v1/tokens", #"{"role":"viewer"}"#, 403),
        ("admin", "GET", "/v1/tokens", nil, 200),
        ("agent-web-01", "GET", "/v1/machines", nil, 403),
        ("agent-web-01", "PUT", "/v1/machines/web-01/inventory", #"{"memory_mib": 2048}"#, 204),
        ("agent-web-01", "PUT", "/v1/machines/web-02/inventory", #"{"memory_mib": 2048}"#, 403),
        ("server", "PUT", "/v1/machines/web-02/inventory", #"{"memory_mib": 4096}"#, 204),
        ("viewer", "PUT", "/v1/machines/web-01/inventory", #"{"memory_mib": 1}"#, 403),
        ("server", "POST", "/v1/fleet/apply", "machines: []", 403),
        ("admin", "GET", "/v1/whoami", nil, 200),
    ]

    @Test func roleMatrix() async throws {
        try await DirectorHarness.with { (d: DirectorHarness) async throws in
            for (role, method, path, body, expected) in Self.matrix {
                let response = try await d.call(
                    method, path, as: role, body: body,
                    contentType: body?.hasPrefix("{") == true ? "application/json" : "application/yaml")
                #expect(response.status == expected, "\(role) \(method) \(path): \(response.status) \(response.text)")
                if expected == 403 { #expect(response.text.contains("may not")) }
            }
        }
    }

    @Test func applyValidateAndEvents() async throws {
        try await DirectorHarness.with { (d: DirectorHarness) async throws in
            let yaml = """
                machines:
                  - {name: web-01, role: web, macs: ["52:54:00:00:00:01"]}
                  - {name: db-01, role: db, macs: ["52:54:00:00:00:09"]}
                """
            let preview = try await d.call(
                "POST", "/v1/fleet/apply?dry_run=true", as: "operator", body: yaml, contentType: "application/yaml")
            #expect(preview.status == 200)
            #expect(preview.text.contains(#""added":["db-01"]"#))
            #expect(try await d.store.machine(named: "db-01") == nil)

            let before = try await d.store.events(after: 0, machine: nil, limit: 1000).last!.id
            let applied = try await d.call(
                "POST", "/v1/fleet/apply", as: "operator", body: yaml, contentType: "application/yaml")
            #expect(applied.status == 200)
            #expect(applied.text.contains(#""kept":["web-02"]"#))
            #expect(try await d.store.machine(named: "db-01")?.spec.role == "db")

            let events = try await d.call("GET", "/v1/events?after=\(before)", as: "viewer")
            #expect(events.text.contains("fleet.machine.added"))
            #expect(events.text.contains("operator (tok-operator)"))

            let dbOnly = try await d.call("GET", "/v1/machines?role=db", as: "viewer")
            #expect(dbOnly.text.contains("db-01") && !dbOnly.text.contains("web-01"))
        }
    }

    @Test func badFleetIs422WithEveryProblemAndChangesNothing() async throws {
        try await DirectorHarness.with { (d: DirectorHarness) async throws in
            let yaml = """
                machines:
                  - {name: x, macs: ["52:54:00:00:00:01"], boot: efi}
                  - {name: y, macs: ["52:54:00:00:00:01"]}
                """
            let response = try await d.call(
                "POST", "/v1/fleet/apply?file=rack7.yaml", as: "operator", body: yaml, contentType: "application/yaml")
            #expect(response.status == 422)
            #expect(response.text.contains("rack7.yaml:2 machines[x].boot"))
            #expect(response.text.contains("MAC 52:54:00:00:00:01 is already used by machine 'x'"))
            #expect(try await d.store.machine(named: "x") == nil)
        }
    }

    @Test func conflictWithStoredFleetIs409() async throws {
        try await DirectorHarness.with { (d: DirectorHarness) async throws in
            let yaml = "machines:\n  - {name: new-01, macs: [\"52:54:00:00:00:02\"]}\n"
            let response = try await d.call(
                "POST", "/v1/fleet/apply", as: "admin", body: yaml, contentType: "application/yaml")
            #expect(response.status == 409)
            #expect(response.text.contains("belongs to machine 'web-02'"))
        }
    }

    @Test func tokensLifecycleAndValidation() async throws {
        try await DirectorHarness.with { (d: DirectorHarness) async throws in
            let created = try await d.call(
                "POST", "/v1/tokens", as: "admin", body: #"{"role":"agent","machine":"web-02"}"#)
            #expect(created.status == 201)
            struct Created: Decodable {
                var id: String
                var token: String
            }
            let token = try JSONDecoder().decode(Created.self, from: Data(created.body))
            #expect(
                try await d.call("PUT", "/v1/machines/web-02/inventory", token: token.token, body: "{}").status == 204)
            #expect(
                try await d.call("PUT", "/v1/machines/web-01/inventory", token: token.token, body: "{}").status == 403)
            let list = try await d.call("GET", "/v1/tokens", as: "admin")
            #expect(list.text.contains(token.id) && !list.text.contains(token.token))

            for (body, message) in [
                (#"{"role":"root"}"#, "unknown role 'root'"),
                (#"{"role":"agent"}"#, "an agent token is bound to one machine"),
                (#"{"role":"viewer","machine":"web-01"}"#, "only agent tokens are bound"),
                (#"{"role":"agent","machine":"ghost"}"#, "no machine named 'ghost'"),
                ("not json", "expected a JSON object"),
            ] {
                let response = try await d.call("POST", "/v1/tokens", as: "admin", body: body)
                #expect((400..<500).contains(response.status), "\(body)")
                #expect(response.text.contains(message), "\(body): \(response.text)")
            }
            #expect(try await d.call("DELETE", "/v1/tokens/tok-nope", as: "admin").status == 404)
        }
    }

    @Test func badQueryParametersAre400() async throws {
        try await DirectorHarness.with { (d: DirectorHarness) async throws in
            let response = try await d.call("GET", "/v1/events?after=-3", as: "viewer")
            #expect(response.status == 400)
            #expect(response.text.contains("query.after"))
            #expect(try await d.call("GET", "/v1/machines?state=melted", as: "viewer").status == 400)
            #expect(try await d.call("PUT", "/v1/machines/web-01/inventory", as: "admin", body: "[1,2]").status == 400)
        }
    }

    @Test func longPollAnswersWhenAnEventArrives() async throws {
        try await DirectorHarness.with { (d: DirectorHarness) async throws in
            let last = try await d.store.events(after: 0, machine: nil, limit: 1000).last!.id
            async let waited = d.call("GET", "/v1/events?after=\(last)&wait=20", as: "viewer")
            try await Task.sleep(for: .milliseconds(300))
            try await d.store.appendEvent(NewEvent(actor: "test", kind: "test.ping", message: "ping"))
            let response = try await waited
            #expect(response.text.contains("test.ping"))
        }
    }

    @Test func metricsCountRequestsAndStoreLatency() async throws {
        try await DirectorHarness.with { (d: DirectorHarness) async throws in
            _ = try await d.call("GET", "/v1/machines", as: "viewer")
            let metrics = try await d.call("GET", "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.text.contains("hb_requests"))
            #expect(metrics.text.contains("gold_store_duration_seconds"))
            #expect(try await d.call("GET", "/healthz").status == 200)
        }
    }
}
