import Foundation
import GoldCore
import GoldHTTPClient
import GoldImage
import GoldTFTPServer
import Hummingbird
import Logging
import NIOCore
import NIOPosix

/// The build/deploy server's network boot side: HTTP boot (iPXE scripts, kernel, initrd) and TFTP (loaders and
/// per-machine pxelinux/GRUB files), both rendering from the director's state at the moment of the request.
public struct DeployServer: Sendable {
    public struct Configuration: Sendable {
        public var httpHost: String
        public var httpPort: Int
        /// How machines reach this server's HTTP side, e.g. `http://10.77.0.1:8081`; nil to use the request's Host.
        public var publicURL: String?
        public var tftp: TFTPServerConfiguration
        /// Served under `/boot/files`: `netboot/vmlinuz`, `netboot/initrd.img`, images.
        public var filesDir: String
        /// The loaders (`undionly.kpxe`, `ipxe.efi`, …).
        public var tftpRoot: String
        /// The image store: manifests and chunks served to agents, whole raw disks to `curl | dd`.
        public var imageStore: String?
        /// The compile server's artifacts (kernels, binaries), served to agents by key and by blob hash.
        public var artifactStore: String?

        public init(
            httpHost: String, httpPort: Int, publicURL: String?, tftp: TFTPServerConfiguration, filesDir: String,
            tftpRoot: String,
            imageStore: String? = nil, artifactStore: String? = nil
        ) {
            self.imageStore = imageStore
            self.artifactStore = artifactStore
            self.httpHost = httpHost
            self.httpPort = httpPort
            self.publicURL = publicURL
            self.tftp = tftp
            self.filesDir = filesDir
            self.tftpRoot = tftpRoot
        }
    }

    public let configuration: Configuration
    public let link: DirectorLink
    public let registry: ClientRegistry
    public let reporter: FetchReporter
    /// Bytes and requests the image endpoints served (`GET /metrics`).
    public let imageCounters = ImageServingCounters()
    public let logger: Logger
    /// What the `/v1` proxy reads, and the bytes it may hold at once.
    public let proxyPolicy = ProxyPolicy()
    let proxyBudget: ProxyBudget

    public init(configuration: Configuration, link: DirectorLink, logger: Logger) {
        proxyBudget = ProxyBudget(capacity: proxyPolicy.budget)
        self.configuration = configuration
        self.link = link
        self.logger = logger
        registry = ClientRegistry()
        reporter = FetchReporter(link: link, registry: registry, logger: logger)
    }

    public func makeRouter() -> Router<DeployContext> {
        let router = Router(context: DeployContext.self)
        router.add(middleware: FetchRecordingMiddleware(reporter: reporter))
        router.add(middleware: FileMiddleware(configuration.filesDir, urlBasePath: "/boot/files", logger: logger))
        router.get("/healthz") { _, _ in ["status": "ok"] }
        let counters = imageCounters
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: counters.prometheusText())))
        }
        router.get("/boot/ipxe") { request, context -> Response in
            guard let text = request.uri.queryParameters.get("mac"), let mac = MACAddress(text) else {
                throw HTTPError(.badRequest, message: "'mac' must be a MAC address (iPXE: ?mac=${mac:hexhyp})")
            }
            if let address = context.remoteAddress { await registry.record(address: address, mac: mac) }
            let base = publicURL(request)
            guard
                let script = try await link.bootScript(
                    mac: mac, loader: "ipxe", filesURL: base + "/boot/files", directorURL: base)
            else {
                throw HTTPError(.notFound, message: "\(mac) is not a machine Gold boots")
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: script)))
        }
        if let root = configuration.imageStore {
            let images = ImageRequestHandler(store: ImageStore(root: URL(fileURLWithPath: root), logger: logger))
            for prefix: RouterPath in ["/images/**", "/chunks/**"] {
                router.get(prefix) { request, context in
                    try await Self.serveImage(images, request, context, reporter: reporter, counters: counters)
                }
                router.head(prefix) { request, context in
                    try await Self.serveImage(images, request, context, reporter: reporter, counters: counters)
                }
            }
        }
        if let root = configuration.artifactStore {
            addArtifactRoutes(router, root: root)
        }
        // Machines reach the director through the deploy server they boot from: the director may stay on a
        // management network the machines cannot see.
        for method in [HTTPRequest.Method.get, .post, .put, .delete] {
            router.on("/v1/**", method: method) { request, context in try await proxy(request, context) }
        }
        return router
    }

    /// Image files through the pure handler; large bodies stream 1 MiB at a time, never whole in memory.
    static func serveImage(
        _ images: ImageRequestHandler, _ request: Request, _ context: DeployContext, reporter: FetchReporter,
        counters: ImageServingCounters
    ) async throws -> Response {
        let start = ContinuousClock.now
        let answer = images.handle(
            method: request.method.rawValue, path: request.uri.path, range: request.headers[.range])
        let kind = ImageServingCounters.Kind(path: request.uri.path) ?? .manifest
        counters.request(kind)
        var headers = HTTPFields()
        for (name, value) in answer.headers {
            if let field = HTTPFields.Element.Name(name) { headers[field] = value }
        }
        headers[.contentLength] = "\(answer.contentLength)"
        let length = answer.contentLength
        let body = ResponseBody { writer in
            var offset: UInt64 = 0
            while offset < length {
                // A disk read: on NIO's file-I/O threads, never the cooperative pool's few.
                let from = offset
                let piece = try await NIOThreadPool.singleton.runIfActive {
                    try answer.read(offset: from, count: 1 << 20)
                }
                if piece.isEmpty { break }
                try await writer.write(ByteBuffer(bytes: piece))
                counters.sent(kind, bytes: piece.count)
                offset += UInt64(piece.count)
            }
            try await writer.finish(nil)
        }
        // Chunk fetches are many and small: record only whole images and manifests as boot fetches.
        if !request.uri.path.hasPrefix("/chunks/") {
            await reporter.add(
                address: context.remoteAddress ?? "?", mac: nil, file: request.uri.path,
                protocolName: "http \(request.method.rawValue)",
                bytes: Int(length), outcome: "\(answer.status)", duration: ContinuousClock.now - start)
        }
        return Response(
            status: .init(code: answer.status), headers: headers, body: request.method == .head ? .init() : body)
    }

    func publicURL(_ request: Request) -> String {
        if let url = configuration.publicURL { return url }
        return "http://" + (request.head.authority ?? "\(configuration.httpHost):\(configuration.httpPort)")
    }

    func proxy(_ request: Request, _ context: DeployContext) async throws -> Response {
        // Before a byte of the body: a token, a size the route takes, room in the budget.
        let limit: Int
        switch proxyPolicy.decide(
            path: request.uri.path, authorization: request.headers[.authorization],
            contentLength: request.headers[.contentLength])
        {
        case .refuse(let status, let message): return Self.proxyError(status, message)
        case .read(let bytes): limit = bytes
        }
        guard proxyBudget.reserve(limit) else {
            return Self.proxyError(503, "the deploy server is passing on as many request bodies as it holds; try again")
        }
        defer { proxyBudget.release(limit) }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: limit) } catch {
            return Self.proxyError(
                413, "the body is larger than the \(limit) bytes \(request.uri.path.prefix(200)) takes")
        }
        var headers: [(String, String)] = []
        for field in request.headers where [.authorization, .contentType].contains(field.name) {
            headers.append((field.name.rawName, field.value))
        }
        // A capture's commit hashes the whole disk on the director (about 1 s per GiB) before it answers.
        let isCommit = request.uri.path.hasPrefix("/v1/images/") && request.uri.path.hasSuffix("/commit")
        let response = try await GoldHTTPClientBridge.send(
            request.method.rawValue, link.url + request.uri.description, headers: headers,
            body: body.readableBytes > 0 ? Array(body.readableBytesView) : nil, timeout: .seconds(isCommit ? 1800 : 60))
        var out = HTTPFields()
        if let type = response.header("Content-Type") { out[.contentType] = type }
        return Response(
            status: .init(code: response.status), headers: out,
            body: .init(byteBuffer: ByteBuffer(bytes: response.body)))
    }

    /// An error in the director's shape (`{"error": {"message": …}}`), so clients read it the same way.
    static func proxyError(_ status: Int, _ message: String) -> Response {
        struct Body: Encodable {
            struct Detail: Encodable { var message: String }
            var error: Detail
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        let json = (try? JSONEncoder().encode(Body(error: .init(message: message)))) ?? Data()
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }

    /// The TFTP side: loaders from `tftpRoot`, per-machine files rendered by the director, netboot files from `filesDir`.
    public func makeTFTPServer() -> TFTPServer {
        let link = self.link
        let registry = self.registry
        let reporter = self.reporter
        let filesDir = configuration.filesDir
        let publicURL = configuration.publicURL
        let logger = self.logger
        let source = DirectoryFileSource(root: configuration.tftpRoot) { path, client in
            if path.hasPrefix("netboot/") {
                return try TFTPFile.open(path: filesDir + "/" + path)
            }
            guard let (loader, mac) = Self.perMachineFile(path) else { return nil }
            if let address = client.ipAddress { await registry.record(address: address, mac: mac) }
            guard let base = publicURL else {
                logger.error(
                    "deploy.public_url is not set: cannot render \(path) (machines need the HTTP server's address)")
                return nil
            }
            guard
                let script = try await link.bootScript(
                    mac: mac, loader: loader, filesURL: base + "/boot/files", directorURL: base)
            else {
                return nil
            }
            return .string(script)
        }
        return TFTPServer(
            configuration: configuration.tftp, fileSource: source,
            observer: { record in
                reporter.submit(
                    FetchReporter.Fetch(
                        address: record.client.ipAddress ?? "?", mac: nil, file: record.requestedFilename,
                        protocolName: "tftp", bytes: record.bytesSent, outcome: "\(record.outcome)",
                        duration: record.duration))
            }, logger: logger)
    }

    /// `pxelinux.cfg/01-aa-bb-…` → (pxelinux, MAC); `grub.cfg-01-aa-bb-…` and `grub.cfg-aa:bb:…` → (grub, MAC).
    static func perMachineFile(_ path: String) -> (String, MACAddress)? {
        if path.hasPrefix("pxelinux.cfg/01-"), let mac = MACAddress(String(path.dropFirst("pxelinux.cfg/01-".count))) {
            return ("pxelinux", mac)
        }
        if path.hasPrefix("grub.cfg-01-"), let mac = MACAddress(String(path.dropFirst("grub.cfg-01-".count))) {
            return ("grub", mac)
        }
        if path.hasPrefix("grub.cfg-"), let mac = MACAddress(String(path.dropFirst("grub.cfg-".count))) {
            return ("grub", mac)
        }
        return nil
    }
}

/// Records every `/boot/files` fetch (who, what, how many bytes, the outcome) for the director.
struct FetchRecordingMiddleware: RouterMiddleware {
    typealias Context = DeployContext
    let reporter: FetchReporter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard request.uri.path.hasPrefix("/boot/files/") else { return try await next(request, context) }
        let start = ContinuousClock.now
        let address = context.remoteAddress ?? "?"
        let file = String(request.uri.path.dropFirst("/boot/files/".count))
        do {
            let response = try await next(request, context)
            let bytes = response.headers[.contentLength].flatMap { Int($0) } ?? 0
            await reporter.add(
                address: address, mac: nil, file: file, protocolName: "http \(request.method.rawValue)",
                bytes: request.method == .head ? 0 : bytes, outcome: "\(response.status.code)",
                duration: ContinuousClock.now - start)
            return response
        } catch {
            await reporter.add(
                address: address, mac: nil, file: file, protocolName: "http \(request.method.rawValue)",
                bytes: 0, outcome: "error: \(error)", duration: ContinuousClock.now - start)
            throw error
        }
    }
}
