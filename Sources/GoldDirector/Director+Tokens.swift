import Foundation
import GoldAPI
import GoldCore
import Hummingbird

extension TokenView: ResponseEncodable {
    init(_ record: TokenRecord) {
        self.init(
            id: record.id, role: record.role.rawValue, machine: record.machine, label: record.label,
            createdAt: record.createdAt, revokedAt: record.revokedAt)
    }
}

extension CreatedToken: ResponseEncodable {}

extension Director {
    func addTokenRoutes(_ router: Router<DirectorContext>) {
        router.get("/v1/tokens") { _, context -> [TokenView] in
            _ = try context.require(.administer)
            return try await store.listTokens().map(TokenView.init)
        }
        router.post("/v1/tokens") { request, context -> EditedResponse<CreatedToken> in
            let identity = try context.require(.administer)
            let body: TokenRequest
            do {
                body = try await request.decode(as: TokenRequest.self, context: context)
            } catch {
                throw GoldError(
                    .invalidInput, "expected a JSON object {\"role\": …, \"machine\": …, \"label\": …}", at: "body")
            }
            guard let role = Role(rawValue: body.role) else {
                throw GoldError(
                    .invalidInput,
                    "unknown role '\(body.role)'; use one of: \(Role.allCases.map(\.rawValue).joined(separator: ", "))",
                    at: "body.role")
            }
            if role == .agent && body.machine == nil {
                throw GoldError(
                    .invalidInput, "an agent token is bound to one machine: give 'machine'", at: "body.machine")
            }
            if role != .agent && body.machine != nil {
                throw GoldError(.invalidInput, "only agent tokens are bound to a machine", at: "body.machine")
            }
            let secret = TokenSecret.generate()
            let record = TokenRecord(
                id: TokenSecret.newID(), hash: secret.hash, role: role, machine: body.machine,
                label: body.label ?? (body.machine.map { "agent \($0)" } ?? role.rawValue), createdAt: Date())
            try await store.insertToken(record, actor: identity.actor)
            return EditedResponse(
                status: .created,
                response: CreatedToken(
                    id: record.id, token: secret.value, role: role.rawValue, machine: record.machine,
                    label: record.label))
        }
        router.delete("/v1/tokens/{id}") { _, context -> Response in
            let identity = try context.require(.administer)
            let id = try context.parameters.require("id")
            guard try await store.revokeToken(id: id, actor: identity.actor) else {
                throw GoldError(.notFound, "no live token with id '\(id)'", at: "path.id")
            }
            return Response(status: .noContent)
        }
    }
}
