import Foundation
import GoldCore
import Hummingbird
import Logging

/// Resolves `Authorization: Bearer …` to an identity; routes decide what that identity may do.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = DirectorContext
    let store: any GoldStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        if let header = request.headers[.authorization] {
            guard header.hasPrefix("Bearer ") else {
                throw GoldError(.unauthorized, "the Authorization header must be 'Bearer <token>'")
            }
            let secret = String(header.dropFirst("Bearer ".count))
            if EnrolmentToken.isEnrolment(secret) {
                context.identity = try await enrolmentIdentity(secret)
                return try await next(request, context)
            }
            guard let token = try await store.token(hash: TokenSecret.hash(secret)), token.revokedAt == nil else {
                throw GoldError(.unauthorized, "the bearer token is unknown or revoked")
            }
            context.identity = Identity(tokenID: token.id, role: token.role, machine: token.machine, label: token.label)
            context.logger[metadataKey: "token"] = .string(token.id)
        }
        return try await next(request, context)
    }

    /// An enrolment token is an agent token for one machine, valid until it expires or the machine checks in.
    func enrolmentIdentity(_ secret: String) async throws -> Identity {
        guard let token = EnrolmentToken.verify(secret, key: try await store.directorKey()) else {
            throw GoldError(.unauthorized, "the enrolment token's signature is wrong")
        }
        guard token.expires >= Int64(Date().timeIntervalSince1970) else {
            throw GoldError(.unauthorized, "the enrolment token of \(token.machine) expired; netboot the machine again")
        }
        guard let machine = try await store.machine(named: token.machine), machine.enrolGeneration == token.generation
        else {
            throw GoldError(.unauthorized, "the enrolment token of \(token.machine) was already used")
        }
        return Identity(
            tokenID: "enrolment", role: .agent, machine: token.machine, label: "enrolment \(token.machine)",
            enrolGeneration: token.generation)
    }
}
