import Foundation
import GoldCore
import Hummingbird

extension Director {
    func addEventRoutes(_ router: Router<DirectorContext>) {
        /// `?after=ID&machine=NAME&limit=N&wait=SECONDS`: with `wait`, a long poll that answers as soon as an
        /// event arrives (or with an empty list when the wait ends), so `gold events --follow` needs no socket of its own.
        /// `?newest=N` instead: the newest N events, oldest first (what `gold events` prints first, like `journalctl -n`).
        router.get("/v1/events") { request, context -> [Event] in
            _ = try context.require(.read)
            let query = request.uri.queryParameters
            let machine = query.get("machine")
            if let newest = try query.int64("newest") {
                guard (1...1000).contains(newest) else {
                    throw GoldError(.invalidInput, "newest must be 1 to 1000, not \(newest)", at: "query.newest")
                }
                guard query.get("after") == nil, query.get("wait") == nil else {
                    throw GoldError(.invalidInput, "newest cannot be combined with after or wait", at: "query.newest")
                }
                return try await store.newestEvents(machine: machine, limit: Int(newest))
            }
            let after = try query.int64("after") ?? 0
            let limit = min(try query.int64("limit") ?? 100, 1000)
            let wait = min(try query.int64("wait") ?? 0, 60)
            guard limit > 0 else { throw GoldError(.invalidInput, "limit must be at least 1", at: "query.limit") }
            let deadline = ContinuousClock.now + .seconds(wait)
            while true {
                let events = try await store.events(after: after, machine: machine, limit: Int(limit))
                if !events.isEmpty || ContinuousClock.now >= deadline { return events }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}

extension Parameters {
    /// `true` or `false`, or a 400 naming the parameter (`active=30882460` was once read as false).
    func bool(_ name: String) throws -> Bool? {
        guard let text = get(name) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: throw GoldError(.invalidInput, "'\(text.prefix(40))' is not true or false", at: "query.\(name)")
        }
    }

    /// A non-negative integer query parameter, or a 400 naming it.
    func int64(_ name: String) throws -> Int64? {
        guard let text = get(name) else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw GoldError(.invalidInput, "'\(text)' is not a non-negative integer", at: "query.\(name)")
        }
        return value
    }
}
