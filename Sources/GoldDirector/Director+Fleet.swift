import Foundation
import GoldCore
import Hummingbird

struct FleetSummary: ResponseCodable {
    var machines: Int
    var profiles: Int
}

extension Director {
    func addFleetRoutes(_ router: Router<DirectorContext>) {
        router.post("/v1/fleet/validate") { request, context -> FleetSummary in
            _ = try context.require(.read)
            let fleet = try await parseFleet(request, context)
            return FleetSummary(machines: fleet.machines.count, profiles: fleet.profiles.count)
        }
        router.post("/v1/fleet/apply") { request, context -> FleetPlan in
            let identity = try context.require(.operate)
            let fleet = try await parseFleet(request, context)
            let query = request.uri.queryParameters
            let dryRun = query.get("dry_run") == "true"
            let prune = query.get("prune") == "true"
            return try await store.applyFleet(fleet, prune: prune, dryRun: dryRun, actor: identity.actor)
        }
    }

    /// The request body is the fleet file's YAML; `?file=` names it in errors.
    func parseFleet(_ request: Request, _ context: DirectorContext) async throws -> Fleet {
        let file = request.uri.queryParameters.get("file") ?? "fleet.yaml"
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        guard let yaml = body.getString(at: body.readerIndex, length: body.readableBytes) else {
            throw GoldError(.invalidInput, "the fleet file must be UTF-8 text", at: file)
        }
        return try FleetParser.parse(yaml: yaml, file: file)
    }
}
