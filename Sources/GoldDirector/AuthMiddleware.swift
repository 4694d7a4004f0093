import GoldCore
import Hummingbird
import Logging

/// Resolves `Authorization: Bearer …` to an identity; routes decide what that identity may do.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = DirectorContext
    let store: any GoldStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let header = request.headers[.authorization] {
            guard header.hasPrefix("Bearer ") else {
                throw GoldError(.unauthorized, "the Authorization header must be 'Bearer <token>'")
            }
            let secret = String(header.dropFirst("Bearer ".count))
            guard let token = try await store.token(hash: TokenSecret.hash(secret)), token.revokedAt == nil else {
                throw GoldError(.unauthorized, "the bearer token is unknown or revoked")
            }
            context.identity = Identity(tokenID: token.id, role: token.role, machine: token.machine, label: token.label)
            context.logger[metadataKey: "token"] = .string(token.id)
        }
        return try await next(request, context)
    }
}
