import Crypto
import Foundation

/// Identifiers derived from the machine and the partition's place, so two builds of the same machine get the
/// same GPT and filesystem UUIDs (reproducible images) and every version keeps them (fstab and grub.cfg stay
/// put, and unchanged metadata blocks dedup across versions). The image version is deliberately not an input.
public enum DeterministicID {
    /// An RFC 9562 version-8 UUID from SHA-256 of `gold:<purpose>:<machine>:<disk>:<partition>`.
    public static func uuid(machine: String, disk: Int, partition: Int, purpose: String) -> String {
        var bytes = Array(SHA256.hash(data: Data("gold:\(purpose):\(machine):\(disk):\(partition)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0f) | 0x80  // RFC 9562 §5.8: version 8 (custom)
        bytes[8] = (bytes[8] & 0x3f) | 0x80  // RFC 9562 §4.1: variant 10
        let hex = bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        let h = Array(hex)
        return [h[0..<8], h[8..<12], h[12..<16], h[16..<20], h[20..<32]].map { String($0) }.joined(separator: "-")
    }

    /// A FAT volume serial (8 hex digits, `mkfs.vfat -i`), shown by blkid and fstab as `XXXX-XXXX`.
    public static func vfatVolumeID(machine: String, disk: Int, partition: Int) -> String {
        let digest = Array(SHA256.hash(data: Data("gold:vfat:\(machine):\(disk):\(partition)".utf8)).prefix(4))
        return digest.map { String($0, radix: 16, uppercase: true).leftPadded(to: 2) }.joined()
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
