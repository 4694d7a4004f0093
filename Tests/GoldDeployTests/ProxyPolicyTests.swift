import GoldDeploy
import Testing

@Suite struct ProxyPolicyTests {
    let policy = ProxyPolicy()

    @Test func noTokenNoBodyRead() {
        #expect(
            policy.decide(path: "/v1/fleet/validate", authorization: nil, contentLength: "62914560")
                == .refuse(status: 401, message: "a bearer token is required (Authorization: Bearer gold_...)"))
        #expect(policy.decide(path: "/v1/x", authorization: "Basic abc", contentLength: nil).isRefusal(401))
        #expect(policy.decide(path: "/v1/x", authorization: "Bearer ", contentLength: nil).isRefusal(401))
    }

    @Test(arguments: [
        ("/v1/fleet/validate", 8 << 20), ("/v1/agent/commands/c1/result", 8 << 20),
        ("/v1/images/web-1/captures/cap-1/commit", 64 << 20), ("/v1/images/web-1/captures/cap-1/chunks/ab", 64 << 20),
        ("/v1/machines/web-1/backups/hello", 64 << 20), ("/v1/images/web-1", 8 << 20), ("/v1/machines/web-1", 8 << 20),
    ])
    func eachRouteItsLimit(path: String, limit: Int) {
        #expect(policy.decide(path: path, authorization: "Bearer gold_x", contentLength: nil) == .read(limit: limit))
        #expect(
            policy.decide(path: path, authorization: "Bearer gold_x", contentLength: "\(limit)") == .read(limit: limit))
        #expect(policy.decide(path: path, authorization: "Bearer gold_x", contentLength: "\(limit + 1)").isRefusal(413))
    }

    @Test func aBadContentLengthIsRefused() {
        for value in ["-1", "lots", "99999999999999999999999"] {
            #expect(policy.decide(path: "/v1/x", authorization: "Bearer gold_x", contentLength: value).isRefusal(400))
        }
    }

    @Test func theBudgetRefusesWhatDoesNotFit() {
        let budget = ProxyBudget(capacity: 100)
        #expect(budget.reserve(60))
        #expect(!budget.reserve(41))
        #expect(budget.reserve(40))
        #expect(budget.inUse == 100)
        budget.release(60)
        #expect(budget.reserve(41))
        #expect(!budget.reserve(Int.max))
    }
}

extension ProxyPolicy.Decision {
    func isRefusal(_ status: Int) -> Bool {
        if case .refuse(status, _) = self { return true }
        return false
    }
}
