import Foundation
import GoldServer
import Testing

/// The lab's kernel fragments are compiled into `gold` (LabKernels.swift); the files in Lab/kernels are what people
/// read and edit. scripts/lab-kernels.sh regenerates the Swift from the files; this fails when someone forgot.
@Suite struct LabKernelsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func options(_ file: String) throws -> [String] {
        try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8).split(separator: "\n").map(
            String.init
        ).filter {
            $0.hasPrefix("CONFIG_") || ($0.hasPrefix("# CONFIG_") && $0.hasSuffix(" is not set"))
        }
    }

    @Test func fragmentsMatchTheFiles() throws {
        #expect(LabKernels.lab == (try Self.options("Lab/kernels/lab.config")), "run scripts/lab-kernels.sh")
        #expect(LabKernels.panics == (try Self.options("Lab/kernels/lab-panics.config")), "run scripts/lab-kernels.sh")
        // The panicking kernel is the lab kernel without its root filesystem's driver.
        #expect(
            LabKernels.lab.contains("CONFIG_EXT4_FS=y") && LabKernels.panics.contains("# CONFIG_EXT4_FS is not set"))
    }
}
