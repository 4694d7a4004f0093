import Foundation
import GoldAPI
import GoldCore
import Hummingbird

struct NextBootRequest: Codable {
    var nextBoot: String
}

/// `POST /v1/machines/{name}/check-in` from the netboot environment.
struct CheckInRequest: Codable {
    var inventory: JSONValue
}

/// The answer to a netboot check-in: a session token for the rest of the environment's work.
struct CheckInResponse: ResponseCodable {
    var machine: String
    var mode: String
    var token: String
    var nextBoot: NextBoot
}

extension Director {
    /// How long an enrolment token on a kernel command line stays valid.
    static let enrolmentLifetime: Int64 = 2 * 3600

    func addBootRoutes(_ router: Router<DirectorContext>) {
        router.put("/v1/machines/{name}/next-boot") { request, context -> Response in
            let identity = try context.require(.operate)
            let name = try context.parameters.require("name")
            let body: NextBootRequest
            do { body = try await request.decode(as: NextBootRequest.self, context: context) } catch {
                throw GoldError(
                    .invalidInput, "expected {\"nextBoot\": \"disk\" | \"once:deploy\" | \"always:rescue\" | …}",
                    at: "body")
            }
            guard let next = NextBoot(body.nextBoot) else {
                throw GoldError(
                    .invalidInput,
                    "'\(body.nextBoot)' is not a next boot; use disk, once:MODE or always:MODE (MODE: deploy, rescue, discovery)",
                    at: "body.nextBoot")
            }
            try await store.setNextBoot(machine: name, next, actor: identity.actor)
            return Response(status: .noContent)
        }

        /// The boot script for the machine with this MAC, rendered now from what the director knows.
        /// `?mac=…&loader=ipxe|pxelinux|grub&files=URL&director=URL` — the deploy server says where machines reach it.
        router.get("/v1/boot/script") { request, context -> Response in
            let identity = try context.require(.serverReport)
            let query = request.uri.queryParameters
            guard let macText = query.get("mac"), let mac = MACAddress(macText) else {
                throw GoldError(.invalidInput, "'mac' must be a MAC address such as 52:54:00:12:34:56", at: "query.mac")
            }
            let loader = query.get("loader") ?? "ipxe"
            guard ["ipxe", "pxelinux", "grub"].contains(loader) else {
                throw GoldError(
                    .invalidInput, "'\(loader)' is not a loader; use ipxe, pxelinux or grub", at: "query.loader")
            }
            guard let files = query.get("files"), let directorURL = query.get("director") else {
                throw GoldError(
                    .invalidInput, "the deploy server must say where machines reach it: 'files' and 'director'",
                    at: "query")
            }
            let machine = try await store.machine(mac: mac)
            let target = BootDecision.decide(machine: machine, nextBoot: machine?.nextBoot, unknown: unknownMachines)
            var token: String?
            if case .netboot = target, let machine {
                let expires = Int64(Date().timeIntervalSince1970) + Self.enrolmentLifetime
                token = EnrolmentToken(machine: machine.name, expires: expires, generation: machine.enrolGeneration)
                    .sign(key: try await store.directorKey())
            }
            let env = NetbootEnvironment(filesURL: String(files), directorURL: String(directorURL))
            let script =
                switch loader {
                case "pxelinux": BootScripts.pxelinux(target, env: env, token: token, mac: mac)
                case "grub": BootScripts.grub(target, env: env, token: token, mac: mac)
                default: BootScripts.ipxe(target, env: env, token: token, mac: mac)
                }
            let summary =
                switch target {
                case .localDisk: "local disk"
                case .netboot(let mode, _): "netboot (\(mode.rawValue))"
                case .ignore: "ignored"
                }
            // An ignored MAC is any packet's to send: it gets a 404, not an event row each.
            if case .ignore = target {
                throw GoldError(.notFound, "no machine has MAC \(mac) and unknown machines are ignored")
            }
            try await store.appendEvent(
                NewEvent(
                    actor: identity.actor, kind: "boot.script", machine: machine?.name,
                    message: "\(loader) script for \(mac): \(summary)"))
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; charset=utf-8"
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: script)))
        }

        /// Files machines fetched from the boot servers: how Gold knows a rebooted machine reached the netboot environment.
        router.post("/v1/boot/fetches") { request, context -> Response in
            let identity = try context.require(.serverReport)
            let fetches: [BootFetch]
            do { fetches = try await request.decode(as: [BootFetch].self, context: context) } catch {
                throw GoldError(.invalidInput, "expected a JSON list of fetches", at: "body")
            }
            guard fetches.count <= 20_000 else {
                throw GoldError(.invalidInput, "at most 20000 fetches per report, not \(fetches.count)", at: "body")
            }
            // Fetches no fleet machine made are anyone's to send: one event per report counts them.
            var unknown: [BootFetch] = []
            for fetch in fetches {
                let machine =
                    try await fetch.mac.flatMap(MACAddress.init).asyncMap { try await store.machine(mac: $0) } ?? nil
                guard machine != nil || fetch.protocolName == "summary" else {
                    unknown.append(fetch)
                    continue
                }
                try await store.appendEvent(
                    NewEvent(
                        actor: identity.actor, kind: "boot.fetch", machine: machine?.name,
                        message:
                            "\(fetch.protocolName) \(fetch.file) to \(fetch.address)\(fetch.mac.map { " (\($0))" } ?? ""): \(fetch.outcome), \(fetch.bytes) bytes in \(fetch.durationMilliseconds) ms",
                        data: try JSONValue(encoding: fetch)))
            }
            if !unknown.isEmpty {
                let examples = unknown.prefix(5).map {
                    "\($0.protocolName) \($0.file.prefix(120)) from \($0.address)\($0.mac.map { " (\($0))" } ?? ""): \($0.outcome)"
                }
                try await store.appendEvent(
                    NewEvent(
                        actor: identity.actor, kind: "boot.fetch.unknown",
                        message:
                            "\(unknown.count) fetch\(unknown.count == 1 ? "" : "es") by clients that are no fleet machine, e.g. "
                            + examples.joined(separator: "; ")))
            }
            return Response(status: .noContent)
        }

        router.post("/v1/machines/{name}/check-in") { request, context -> CheckInResponse in
            let name = try context.parameters.require("name")
            let identity = try context.require(.machineReport(name))
            guard let generation = identity.enrolGeneration else {
                throw GoldError(.forbidden, "a netboot check-in needs the enrolment token from the kernel command line")
            }
            let body: CheckInRequest
            do { body = try await request.decode(as: CheckInRequest.self, context: context) } catch {
                throw GoldError(.invalidInput, "expected {\"inventory\": {…}}", at: "body")
            }
            let before = try await store.machine(named: name)
            let mode: NetbootMode =
                switch before?.nextBoot {
                case .netbootOnce(let mode), .netboot(let mode): mode
                default: .rescue
                }
            let record = try await store.netbootCheckIn(
                machine: name, generation: generation, inventory: body.inventory, actor: identity.actor)
            // The session token replaces the one-time enrolment token for the rest of this netboot.
            let secret = TokenSecret.generate()
            try await store.insertToken(
                TokenRecord(
                    id: TokenSecret.newID(), hash: secret.hash, role: .agent, machine: name,
                    label: "netboot session \(name)", createdAt: Date()), actor: identity.actor)
            return CheckInResponse(machine: name, mode: mode.rawValue, token: secret.value, nextBoot: record.nextBoot)
        }
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}

extension JSONValue {
    init<T: Encodable>(encoding value: T) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }
}
