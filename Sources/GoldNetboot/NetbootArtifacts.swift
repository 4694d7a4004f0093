import Crypto
import Foundation

/// What `NetbootBuilder.build()` produced: files named by their SHA-256, ready to serve over TFTP or HTTP.
public struct NetbootArtifacts: Codable, Sendable, Equatable {
    public var kernelVersion: String
    public var kernelPath: String
    public var kernelSHA256: String
    public var kernelSize: UInt64
    public var initrdPath: String
    public var initrdSHA256: String
    public var initrdSize: UInt64
    /// Size of the uncompressed cpio archive.
    public var archiveSize: UInt64
    /// Module paths (relative to `/lib/modules/VERSION`) in the order `/init` loads them.
    public var modules: [String]
    /// True when an earlier build with the same inputs was reused.
    public var cached: Bool
}

/// How the cpio archive is compressed; Debian's kernel has both (CONFIG_RD_GZIP, CONFIG_RD_ZSTD).
public enum NetbootCompression: String, Codable, Sendable, CaseIterable {
    case gzip, zstd

    var fileExtension: String { self == .gzip ? "cpio.gz" : "cpio.zst" }
}

/// Steps of a build, for a progress display.
public enum NetbootProgress: Sendable, Equatable {
    case step(String)
    /// Bytes of the uncompressed archive written so far, of the total.
    case archiving(written: UInt64, total: UInt64)
    case finished(NetbootArtifacts)
}

/// A program the workflows run inside the netboot environment, and the Debian package that installs it.
public struct HostTool: Sendable, Equatable {
    public var name: String
    public var debianPackage: String

    public init(_ name: String, package debianPackage: String) {
        self.name = name
        self.debianPackage = debianPackage
    }

    /// Partitioning, file systems, GRUB's environment block and torture tests.
    public static let workflowTools: [HostTool] = [
        HostTool("sfdisk", package: "fdisk"), HostTool("partx", package: "util-linux"),
        HostTool("blkid", package: "util-linux"),
        HostTool("mkfs.ext4", package: "e2fsprogs"), HostTool("e2fsck", package: "e2fsprogs"),
        HostTool("tune2fs", package: "e2fsprogs"), HostTool("debugfs", package: "e2fsprogs"),
        HostTool("mkfs.vfat", package: "dosfstools"), HostTool("grub-editenv", package: "grub-common"),
        HostTool("stress-ng", package: "stress-ng"),
    ]
}

enum Digest {
    /// SHA-256 of a file, read in 1 MiB chunks.
    static func sha256(ofFile path: String) throws -> (hex: String, size: UInt64) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw NetbootError(.missingInput, "cannot read \(path)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var size: UInt64 = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            size += UInt64(chunk.count)
        }
        return (hex(hasher.finalize()), size)
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { byte in
            let text = String(byte, radix: 16)
            return text.count == 1 ? "0" + text : text
        }.joined()
    }
}
