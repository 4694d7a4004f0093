import Crypto
import Foundation
import GoldCore

/// An mmdebstrap recipe for a base root filesystem; its hash names the cached tarball.
///
/// A bootable Debian needs at least `systemd-sysv`, `udev` and a kernel (`linux-image-amd64`, whose
/// initramfs-tools hook builds the initramfs inside the chroot). Measured here: minbase + systemd-sysv, udev,
/// linux-image-amd64, initramfs-tools, openssh-server took 139 s and made a 688 MB tarball.
public struct DebianRecipe: Hashable, Sendable, Codable {
    public var suite: String
    public var variant: String
    public var packages: [String]
    public var mirror: String

    public static let bootablePackages = [
        "systemd-sysv", "udev", "linux-image-amd64", "initramfs-tools", "openssh-server",
    ]

    public init(
        suite: String = "bookworm", variant: String = "minbase", packages: [String] = DebianRecipe.bootablePackages,
        mirror: String
    ) {
        self.suite = suite
        self.variant = variant
        self.packages = packages
        self.mirror = mirror
    }

    /// SHA-256 over the canonical recipe: the cache key.
    public var hash: String {
        let text =
            "suite=\(suite)\nvariant=\(variant)\npackages=\(packages.sorted().joined(separator: ","))\nmirror=\(mirror)\n"
        return SHA256.hash(data: Data(text.utf8)).hexString
    }

    /// The first Debian mirror in the host's apt sources (deb822 `.sources` or one-line `sources.list`).
    public static func hostMirror(aptDirectory: URL = URL(fileURLWithPath: "/etc/apt")) -> String? {
        var texts: [String] = []
        let list = aptDirectory.appendingPathComponent("sources.list")
        if let text = try? String(contentsOf: list, encoding: .utf8) { texts.append(text) }
        let dir = aptDirectory.appendingPathComponent("sources.list.d")
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
        where name.hasSuffix(".sources") || name.hasSuffix(".list") {
            if let text = try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8) {
                texts.append(text)
            }
        }
        for text in texts { if let mirror = mirror(inSources: text) { return mirror } }
        return nil
    }

    /// The Debian archive URI in an apt sources text (not the security archive).
    public static func mirror(inSources text: String) -> String? {
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") { continue }
            var candidate: String?
            if line.hasPrefix("URIs:") {
                candidate = line.dropFirst(5).split(separator: " ").first.map(String.init)
            } else if line.hasPrefix("deb ") {
                candidate = line.split(separator: " ").dropFirst().first { !$0.hasPrefix("[") }.map(String.init)
            }
            if let candidate, candidate.contains("/debian"), !candidate.contains("security") { return candidate }
        }
        return nil
    }
}
