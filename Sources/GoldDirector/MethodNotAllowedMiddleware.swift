import Hummingbird
import Synchronization

/// RFC 9110 §15.5.6: a known path asked with a method it does not take answers 405 with `Allow`, not 404. The router
/// only says "not found"; this looks the path up in the routes (filled in once they are all added).
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The routes as path segments (`{name}` matches one segment, `**` the rest) and their methods.
    final class Routes: Sendable {
        private let table = Mutex<[(segments: [String], method: HTTPRequest.Method)]>([])

        func set(_ routes: [(path: String, method: HTTPRequest.Method)]) {
            table.withLock { $0 = routes.map { (Self.segments($0.path), $0.method) } }
        }

        /// The methods the router would dispatch at `path`: of the matching routes, those with the most literal
        /// segments (the router prefers `/v1/images/{m}/captures` to `/v1/images/{m}/{version}`).
        func methods(at path: String) -> [HTTPRequest.Method] {
            let asked = Self.segments(path)
            return table.withLock { routes in
                let matching = routes.filter { Self.matches($0.segments, asked) }
                let best = matching.map { Self.literals($0.segments) }.max() ?? 0
                return matching.filter { Self.literals($0.segments) == best }.map(\.method)
            }
        }

        static func literals(_ pattern: [String]) -> Int {
            pattern.filter { !($0.hasPrefix("{") && $0.hasSuffix("}")) && $0 != "*" && $0 != "**" }.count
        }

        static func segments(_ path: String) -> [String] { path.split(separator: "/").map(String.init) }

        static func matches(_ pattern: [String], _ path: [String]) -> Bool {
            var index = 0
            for part in pattern {
                if part == "**" { return true }
                guard index < path.count else { return false }
                if !(part.hasPrefix("{") && part.hasSuffix("}")) && part != "*" && part != path[index] { return false }
                index += 1
            }
            return index == path.count
        }
    }

    let routes: Routes

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = routes.methods(at: request.uri.path)
            guard !allowed.isEmpty, !allowed.contains(request.method) else { throw error }
            var headers = HTTPFields()
            headers[.allow] = Set(allowed.map(\.rawValue)).sorted().joined(separator: ", ")
            throw HTTPError(
                .methodNotAllowed, headers: headers,
                message: "\(request.uri.path) does not take \(request.method.rawValue)")
        }
    }
}
