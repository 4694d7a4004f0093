import Foundation
import GoldCompile
import GoldCore
import GoldWorkflow
import Hummingbird
import Logging
import Prometheus

/// The director's HTTP API: inventory, fleet files, events and tokens, over one store.
public struct Director: Sendable {
    public let store: any GoldStore
    public let registry: PrometheusCollectorRegistry
    public let logger: Logger
    public let unknownMachines: UnknownMachinePolicy
    public let workflows: (any WorkflowControl)?
    /// Where the binaries an update replaced are kept; nil: this director takes no backups.
    public let backups: BinaryBackups?
    /// The image store's directory (versions, manifests, file lists); nil: no image routes.
    public let imageStore: String?
    /// The compile queue workflows submit to and workers lease from (in this process or over HTTP); nil: no job routes.
    public let compileQueue: (any CompileQueue)?
    /// The artifact store remote compile workers upload to (the deploy role serves it); nil: no artifact routes.
    public let artifacts: LocalArtifactStore?
    let workflowStoreBase: (any WorkflowStore)?
    /// Each machine's JSON for `GET /v1/machines`, reused while the machine is unchanged.
    let machineList = MachineListEncoder()
    /// Disk captures in flight (`/v1/images/{machine}/captures`).
    let captures = CaptureSessions()

    public init(
        store: any GoldStore, registry: PrometheusCollectorRegistry, logger: Logger,
        unknownMachines: UnknownMachinePolicy = .ignore,
        workflows: (any WorkflowControl)? = nil, backups: BinaryBackups? = nil, imageStore: String? = nil,
        compileQueue: (any CompileQueue)? = nil, artifacts: LocalArtifactStore? = nil
    ) {
        self.compileQueue = compileQueue
        self.artifacts = artifacts
        self.backups = backups
        self.imageStore = imageStore
        self.store = MeasuredStore(base: store)
        self.workflowStoreBase = store as? any WorkflowStore
        self.workflows = workflows
        self.unknownMachines = unknownMachines
        self.registry = registry
        self.logger = logger
    }

    /// Every route of the API; `OpenAPITests` checks them against `openapi.yaml`.
    public func makeRouter() -> Router<DirectorContext> {
        let router = Router(context: DirectorContext.self)
        let known = MethodNotAllowedMiddleware<DirectorContext>.Routes()
        router.add(middleware: MethodNotAllowedMiddleware(routes: known))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: LogRequestsMiddleware(.debug))
        router.add(middleware: AuthMiddleware(store: store))

        router.get("/healthz") { _, _ in ["status": "ok"] }
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("/openapi.yaml") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
        }
        router.get("/v1/whoami") { _, context in
            let identity = try context.require(.read)
            return WhoAmI(
                tokenID: identity.tokenID, role: identity.role, machine: identity.machine, label: identity.label)
        }
        addMachineRoutes(router)
        addFleetRoutes(router)
        addEventRoutes(router)
        addTokenRoutes(router)
        addBootRoutes(router)
        addWorkflowRoutes(router)
        addBackupRoutes(router)
        addImageRoutes(router)
        addCaptureRoutes(router)
        addJobRoutes(router)
        addWorkerRoutes(router)
        addArtifactRoutes(router)
        known.set(router.routes.map { ("\($0.path)", $0.method) })
        return router
    }

    /// An application serving the API on `host:port`; `onServerRunning` learns the bound port (tests use port 0).
    public func makeApplication(
        host: String, port: Int, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(host, port: port), serverName: "gold-director"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }
}

struct WhoAmI: ResponseCodable {
    var tokenID: String
    var role: Role
    var machine: String?
    var label: String
}
