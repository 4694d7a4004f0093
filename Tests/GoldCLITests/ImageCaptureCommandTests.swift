import ArgumentParser
import Foundation
import GoldImage
import Testing

@testable import GoldCLI

@Suite struct ImageCaptureCommandTests {
    @Test func captureParses() throws {
        let capture = try #require(
            try Gold.parseAsRoot(["image", "capture", "web-1", "--watch"]) as? Gold.ImageCommand.Capture)
        #expect(capture.machine == "web-1" && capture.start.watch)
        let quiet = try #require(try Gold.parseAsRoot(["image", "capture", "web-1"]) as? Gold.ImageCommand.Capture)
        #expect(!quiet.start.watch)
        #expect(throws: (any Error).self) { try Gold.parseAsRoot(["image", "capture"]) }
    }

    @Test func aChunkDiffReadsAsRangesPerDisk() {
        let chunk = 1 << 20
        func disk(_ fill: [UInt8], index: Int = 0) -> DiskImageManifest {
            DiskImageManifest(
                index: index, device: "/dev/vda", size: UInt64(fill.count * chunk), sha256: "", chunkSize: chunk,
                chunks: fill.map { $0 == 0 ? nil : ChunkHash(of: [$0]) })
        }
        let old = ImageManifest(
            machine: "web-1", version: 1, parent: nil, change: .provision, description: "", created: 0,
            disks: [disk([1, 2, 3, 4, 0, 0])])
        let new = ImageManifest(
            machine: "web-1", version: 2, parent: 1, change: .capture, description: "", created: 0,
            disks: [disk([1, 9, 9, 4, 0, 7])])
        let text = Gold.ImageCommand.render(ChunkDiff(from: old, to: new), reason: "no file list")
        #expect(
            text == """
                web-1: version 1 → 2: no file list; compared by chunk: 3 chunk(s) differ (3 MiB)
                  disk 0 (6 MiB): 3 chunk(s), 3 MiB at 1 MiB+2 MiB, 5 MiB+1 MiB
                """, "\(text)")
    }
}
