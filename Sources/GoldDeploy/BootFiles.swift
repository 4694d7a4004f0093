import Foundation
import GoldCore

/// The network boot loaders Gold serves over TFTP, taken from Debian's packages at their installed paths.
public enum BootFiles {
    public struct Source: Sendable {
        public var name: String
        public var path: String
        public var package: String
    }

    /// TFTP name → installed file and the package that installs it.
    public static let sources: [Source] = [
        Source(name: "undionly.kpxe", path: "/usr/lib/ipxe/undionly.kpxe", package: "ipxe"),
        Source(name: "ipxe.efi", path: "/usr/lib/ipxe/ipxe.efi", package: "ipxe"),
        Source(name: "snponly.efi", path: "/usr/lib/ipxe/snponly.efi", package: "ipxe"),
        Source(name: "pxelinux.0", path: "/usr/lib/PXELINUX/pxelinux.0", package: "pxelinux"),
        Source(name: "ldlinux.c32", path: "/usr/lib/syslinux/modules/bios/ldlinux.c32", package: "syslinux-common"),
    ]

    /// Copies the loaders into `root` (symlinks out of the TFTP root are refused by design), replacing stale copies.
    /// A missing file is an error naming its package.
    public static func install(into root: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        let missing = sources.filter { !fm.fileExists(atPath: $0.path) }
        if !missing.isEmpty {
            let packages = Set(missing.map(\.package)).sorted().joined(separator: " ")
            throw GoldError(
                .unavailable,
                "boot loaders missing: \(missing.map(\.path).joined(separator: ", ")); install with: apt-get install \(packages)"
            )
        }
        for source in sources {
            let target = root + "/" + source.name
            let data = try Data(contentsOf: URL(fileURLWithPath: source.path))
            if fm.contents(atPath: target) == data { continue }
            try data.write(to: URL(fileURLWithPath: target), options: .atomic)
        }
    }
}
