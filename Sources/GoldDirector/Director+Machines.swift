import Foundation
import GoldCore
import Hummingbird

extension MachineRecord: ResponseEncodable {}
extension ProfileSpec: ResponseEncodable {}
extension FleetPlan: ResponseEncodable {}
extension Event: ResponseEncodable {}

extension Director {
    func addMachineRoutes(_ router: Router<DirectorContext>) {
        router.get("/v1/machines") { request, context -> Response in
            _ = try context.require(.read)
            let role = request.uri.queryParameters.get("role")
            let state = request.uri.queryParameters.get("state")
            if let state, MachineState(rawValue: state) == nil {
                throw GoldError(
                    .invalidInput,
                    "unknown state '\(state)'; use one of: \(MachineState.allCases.map(\.rawValue).joined(separator: ", "))",
                    at: "query.state")
            }
            let machines = try await store.listMachines().filter {
                (role == nil || $0.spec.role == role) && (state == nil || $0.state.rawValue == state)
            }
            return try machineList.response(machines, complete: role == nil && state == nil)
        }
        router.get("/v1/machines/{name}") { _, context -> MachineRecord in
            _ = try context.require(.read)
            let name = try context.parameters.require("name")
            guard let machine = try await store.machine(named: name) else {
                throw GoldError(.notFound, "no machine named '\(name)'", at: "path.name")
            }
            return machine
        }
        router.put("/v1/machines/{name}/inventory") { request, context -> Response in
            let name = try context.parameters.require("name")
            let identity = try context.require(.machineReport(name))
            let inventory: JSONValue
            do {
                inventory = try await request.decode(as: JSONValue.self, context: context)
            } catch {
                throw GoldError(.invalidInput, "the inventory must be a JSON object", at: "body")
            }
            guard case .object = inventory else {
                throw GoldError(.invalidInput, "the inventory must be a JSON object", at: "body")
            }
            try await store.setInventory(machine: name, inventory: inventory, actor: identity.actor)
            return Response(status: .noContent)
        }
        router.get("/v1/profiles") { _, context -> [ProfileSpec] in
            _ = try context.require(.read)
            return try await store.listProfiles()
        }
    }
}
