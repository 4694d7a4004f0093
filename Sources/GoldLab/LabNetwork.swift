import Foundation
import GoldSpawn

/// The lab's network: a namespace holding a bridge with Gold's address and one tap per VM, all made with `ip`.
///
/// Every removal tolerates what is already gone, so teardown can be repeated.
public struct LabNetwork: Sendable {
    public let namespace: String
    public let bridge: String
    public let gatewayAddress: String
    private let runner: any ProgramRunner

    public init(namespace: String, bridge: String, gatewayAddress: String, runner: any ProgramRunner) {
        self.namespace = namespace
        self.bridge = bridge
        self.gatewayAddress = gatewayAddress
        self.runner = runner
    }

    /// Whether the namespace exists (`ip netns list`).
    public func namespaceExists() async throws -> Bool {
        let result = try await ip(["netns", "list"], check: true)
        return result.stdout.split(whereSeparator: \.isNewline).contains { line in
            line.split(separator: " ").first.map(String.init) == namespace
        }
    }

    public func createNamespace() async throws {
        try await ip(["netns", "add", namespace])
        try await ip(["-n", namespace, "link", "set", "lo", "up"])
    }

    public func createBridge() async throws {
        try await ip(["-n", namespace, "link", "add", bridge, "type", "bridge"])
        try await ip(["-n", namespace, "addr", "add", gatewayAddress, "dev", bridge])
        try await ip(["-n", namespace, "link", "set", bridge, "up"])
    }

    public func createTap(_ tap: String) async throws {
        try await ip(["-n", namespace, "tuntap", "add", "dev", tap, "mode", "tap"])
        try await ip(["-n", namespace, "link", "set", tap, "master", bridge])
        try await ip(["-n", namespace, "link", "set", tap, "up"])
    }

    /// A veth pair from the host into the namespace, so the host reaches Gold's servers inside the lab
    /// (`hostAddress` on the host side, `labAddress` inside).
    public func createUplink(host: String, lab: String, hostAddress: String, labAddress: String) async throws {
        try await ip(["link", "add", host, "type", "veth", "peer", "name", lab, "netns", namespace])
        try await ip(["addr", "add", hostAddress, "dev", host])
        try await ip(["link", "set", host, "up"])
        try await ip(["-n", namespace, "addr", "add", labAddress, "dev", lab])
        try await ip(["-n", namespace, "link", "set", lab, "up"])
    }

    /// Routes the machines' segment from the host through the uplink, and lets the namespace forward between its
    /// uplink and the bridge: the director's checks reach the machines and nothing for them leaves by the host's
    /// default route. The route goes with the veth when the lab is removed.
    public func routeSegment(_ segment: String, via labAddress: String, hostLink: String) async throws {
        let gateway = String(labAddress.split(separator: "/")[0])
        try await ip(["route", "replace", segment, "via", gateway, "dev", hostLink])
        try await ip(["netns", "exec", namespace, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
    }

    /// `10.77.0.1/24` → `10.77.0.0/24`.
    public static func network(of cidr: String) -> String? {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let prefix = Int(parts[1]), (0...32).contains(prefix) else { return nil }
        let octets = parts[0].split(separator: ".").compactMap { UInt32($0) }
        guard octets.count == 4, octets.allSatisfy({ $0 < 256 }) else { return nil }
        let address = octets.reduce(0) { $0 << 8 | $1 }
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
        let network = address & mask
        return "\(network >> 24).\(network >> 16 & 255).\(network >> 8 & 255).\(network & 255)/\(prefix)"
    }

    /// Deletes a link of the host's own namespace if present (its veth peer goes with it).
    @discardableResult
    public func deleteHostLink(_ name: String) async throws -> Bool {
        let result = try await ip(["link", "show", name], check: false)
        guard result.exitCode == 0 else { return false }
        try await ip(["link", "del", name])
        return true
    }

    /// Names of the links in the namespace (empty if it does not exist).
    /// Sets a link in the namespace up or down.
    public func setLink(_ link: String, up: Bool) async throws {
        try await ip(["-n", namespace, "link", "set", link, up ? "up" : "down"])
    }

    public func links() async throws -> [String] {
        let result = try await ip(["-n", namespace, "-o", "link", "show"], check: false)
        guard result.exitCode == 0 else { return [] }
        // "3: gtap0: <…" or "3: gtap0@if2: <…"
        return result.stdout.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(separator: ":", maxSplits: 2)
            guard fields.count >= 2 else { return nil }
            return String(fields[1].trimmingCharacters(in: .whitespaces).split(separator: "@").first ?? "")
        }
    }

    /// Pids of processes inside the namespace (`ip netns pids`); none if `ip` fails, or, when `strict`, an error.
    public func pids(strict: Bool = false) async throws -> [Int32] {
        let result = try await ip(["netns", "pids", namespace], check: strict)
        guard result.exitCode == 0 else { return [] }
        return result.stdout.split(whereSeparator: \.isNewline).compactMap { Int32($0) }
    }

    /// Deletes a link if present; true if it was there.
    @discardableResult
    public func deleteLink(_ name: String) async throws -> Bool {
        guard try await links().contains(name) else { return false }
        try await ip(["-n", namespace, "link", "del", name])
        return true
    }

    /// Deletes the namespace if present; true if it was there.
    @discardableResult
    public func deleteNamespace() async throws -> Bool {
        guard try await namespaceExists() else { return false }
        try await ip(["netns", "del", namespace])
        return true
    }

    @discardableResult
    private func ip(_ args: [String], check: Bool = true) async throws -> InvocationResult {
        let result: InvocationResult
        do {
            result = try await runner.run("ip", args, timeout: .seconds(15))
        } catch let failure as SpawnError where failure.reason == .notFound {
            throw LabError(.missingTool, "ip not found: install Debian package iproute2")
        }
        if check && (result.exitCode != 0 || result.timedOut) {
            throw LabError(.commandFailed, "ip \(args.joined(separator: " ")): \(result.summary)")
        }
        return result
    }
}
