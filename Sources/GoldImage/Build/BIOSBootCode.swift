import Foundation
import GoldCore

/// GRUB's BIOS boot code on a GPT disk, placed the way grub-bios-setup would (util/setup.c), without probing
/// any disk: boot.img's first 440 bytes in sector 0 and core.img in the BIOS boot partition.
public enum BIOSBootCode {
    /// boot.img: u64 LBA of core.img's first sector (GRUB_BOOT_MACHINE_KERNEL_SECTOR, include/grub/i386/pc/boot.h).
    public static let kernelSectorOffset = 0x5c
    /// boot.img: the 2-byte jump over the boot-drive check (GRUB_BOOT_MACHINE_DRIVE_CHECK); setup.c replaces it
    /// with two NOPs on hard disks so buggy BIOSes that pass a wrong drive number still boot.
    public static let driveCheckOffset = 0x66
    /// diskboot.img (core.img's first sector): the first blocklist entry, u64 start sector at 0x1f4 and u16
    /// sector count at 0x1fc (struct grub_pc_bios_boot_blocklist at the end of the sector).
    public static let blocklistStartOffset = 0x1f4
    public static let blocklistLengthOffset = 0x1fc
    /// The MBR bytes boot code may use: the rest is the disk signature and the partition table.
    public static let mbrCodeSize = 440

    /// Sector 0's boot code for core.img at `coreSector`.
    public static func patchedBootImage(_ bootImage: Data, coreSector: UInt64) throws -> Data {
        guard bootImage.count >= 512 else {
            throw GoldError(.invalidInput, "boot.img is \(bootImage.count) bytes, not 512")
        }
        var bytes = [UInt8](bootImage.prefix(mbrCodeSize))
        write(coreSector, into: &bytes, at: kernelSectorOffset)
        bytes[driveCheckOffset] = 0x90
        bytes[driveCheckOffset + 1] = 0x90
        return Data(bytes)
    }

    /// core.img with its blocklist pointing at the sectors after its first, contiguous in the partition.
    public static func patchedCoreImage(_ coreImage: Data, coreSector: UInt64, partitionSectors: UInt64) throws -> Data
    {
        let sectors = UInt64((coreImage.count + 511) / 512)
        guard coreImage.count >= 512 else { throw GoldError(.invalidInput, "core.img is \(coreImage.count) bytes") }
        guard sectors <= partitionSectors else {
            throw GoldError(
                .invalidInput, "core.img needs \(sectors) sectors but the BIOS boot partition has \(partitionSectors)")
        }
        var bytes = [UInt8](coreImage)
        write(coreSector + 1, into: &bytes, at: blocklistStartOffset)
        let length = UInt16(sectors - 1)
        bytes[blocklistLengthOffset] = UInt8(length & 0xff)
        bytes[blocklistLengthOffset + 1] = UInt8(length >> 8)
        return Data(bytes)
    }

    static func write(_ value: UInt64, into bytes: inout [UInt8], at offset: Int) {
        for i in 0..<8 { bytes[offset + i] = UInt8((value >> (8 * UInt64(i))) & 0xff) }
    }
}
