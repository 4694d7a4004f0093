import Foundation
import GoldCore
import Hummingbird

/// Who is calling: resolved from the bearer token by `AuthMiddleware`.
public struct Identity: Sendable, Hashable {
    public var tokenID: String
    public var role: Role
    public var machine: String?
    public var label: String
    /// Set for an enrolment token: the machine's generation it was signed for.
    public var enrolGeneration: Int64? = nil

    /// How events name the caller.
    public var actor: String { role == .agent ? "agent:\(machine ?? "?")" : "\(label) (\(tokenID))" }
}

/// The request context of the director's API.
public struct DirectorContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Identity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    public var responseEncoder: JSONEncoder { DirectorJSON.encoder }
    public var requestDecoder: JSONDecoder { DirectorJSON.decoder }
    public var maxUploadSize: Int { 8 << 20 }

    /// Some token, before a body that names the machine is read; the route then checks the token against that machine.
    /// A request without one costs no body read.
    public func requireSomeToken() throws {
        guard identity != nil else {
            throw GoldError(.unauthorized, "a bearer token is required (Authorization: Bearer gold_...)")
        }
    }

    /// The caller, when its token grants `permission`; 401 without a token, 403 with the wrong one.
    public func require(_ permission: Permission) throws -> Identity {
        guard let identity else {
            throw GoldError(.unauthorized, "a bearer token is required (Authorization: Bearer gold_...)")
        }
        guard Authorization.allows(role: identity.role, boundMachine: identity.machine, permission) else {
            throw GoldError(
                .forbidden,
                "token \(identity.tokenID) (role \(identity.role.rawValue)\(identity.machine.map { ", machine \($0)" } ?? "")) may not \(permission.verb)"
            )
        }
        return identity
    }
}

enum DirectorJSON {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

extension Permission {
    var verb: String {
        switch self {
        case .read: "read"
        case .operate: "operate machines"
        case .administer: "administer Gold (tokens)"
        case .serverReport: "report as a server"
        case .machineReport(let machine): "report for machine \(machine)"
        }
    }
}
