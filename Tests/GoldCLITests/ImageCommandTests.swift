import ArgumentParser
import Foundation
import GoldImage
import Testing

@testable import GoldCLI

@Suite struct ImageCommandTests {
    @Test func showExportAndGCParse() throws {
        let show = try #require(
            try Gold.parseAsRoot(["image", "show", "web-1", "4", "--json"]) as? Gold.ImageCommand.Show)
        #expect(show.machine == "web-1" && show.version == "4" && show.output.json)
        let current = try #require(try Gold.parseAsRoot(["image", "show", "web-1"]) as? Gold.ImageCommand.Show)
        #expect(current.version == "current")
        #expect(throws: (any Error).self) { try Gold.parseAsRoot(["image", "show", "web-1", "newest"]) }

        let export = try #require(
            try Gold.parseAsRoot(["image", "export", "web-1", "3", "--format", "qcow2", "--output", "/tmp/w.qcow2"])
                as? Gold.ImageCommand.Export)
        #expect(export.format == .qcow2 && export.output == "/tmp/w.qcow2" && export.disk == 0)
        let raw = try #require(
            try Gold.parseAsRoot(["image", "export", "web-1", "current", "--output", "x"]) as? Gold.ImageCommand.Export)
        #expect(raw.format == .raw && raw.version == "current")
        #expect(throws: (any Error).self) { try Gold.parseAsRoot(["image", "export", "web-1", "3"]) }  // no --output
        #expect(throws: (any Error).self) { try Gold.parseAsRoot(["image", "export", "web-1", "x", "--output", "o"]) }
        #expect(throws: (any Error).self) {
            try Gold.parseAsRoot(["image", "export", "web-1", "3", "--output", "o", "--disk", "-1"])
        }

        let gc = try #require(
            try Gold.parseAsRoot(["image", "gc", "--keep", "5", "--dry-run"]) as? Gold.ImageCommand.GC)
        #expect(gc.keep == 5 && gc.dryRun)
        #expect(try #require(try Gold.parseAsRoot(["image", "gc"]) as? Gold.ImageCommand.GC).keep == 3)
        #expect(throws: (any Error).self) { try Gold.parseAsRoot(["image", "gc", "--keep", "0"]) }
    }

    @Test func badFormatIsRefusedNamingTheOption() {
        do {
            _ = try Gold.parseAsRoot(["image", "export", "web-1", "3", "--format", "vmdk", "--output", "o"])
            Issue.record("vmdk was accepted")
        } catch {
            let message = Gold.message(for: error)
            #expect(message.contains("--format") && message.contains("vmdk"), "\(message)")
        }
    }

    @Test func showRendersTheSummary() {
        let manifest = ImageManifest(
            machine: "web-1", version: 2, parent: 1, change: .softwareUpdate, description: "update wf-7", created: 0,
            disks: [
                DiskImageManifest(
                    index: 0, device: "/dev/vda", size: 4 << 20, sha256: String(repeating: "a", count: 64),
                    chunkSize: 1 << 20,
                    chunks: [ChunkHash(of: Data([1])), nil, nil, ChunkHash(of: Data([2]))])
            ])
        let parent = ImageManifest(
            machine: "web-1", version: 1, parent: nil, change: .provision, description: "", created: 0,
            disks: [
                DiskImageManifest(
                    index: 0, device: "/dev/vda", size: 1 << 20, sha256: String(repeating: "b", count: 64),
                    chunkSize: 1 << 20,
                    chunks: [ChunkHash(of: Data([1]))])
            ])
        let text = Gold.ImageCommand.Show.render(ImageVersionDetail(manifest: manifest, parent: parent, current: true))
        #expect(text.hasPrefix("web-1 version 2 (current)\n"))
        #expect(text.contains("change:   software-update — update wf-7"))
        #expect(text.contains("size:     4 MiB (4194304 bytes) on 1 disk"))
        #expect(text.contains("chunks:   4, 2 all-zero (2 MiB not stored)"))
        #expect(text.contains("new:      1 chunk (1 MiB) that version 1 does not have"))
        #expect(text.contains("sha256 " + String(repeating: "a", count: 64)))
        #expect(text.contains("zero   2 MiB in 1 range: 1 MiB+2 MiB"))
        let orphan = Gold.ImageCommand.Show.render(ImageVersionDetail(manifest: manifest, parent: nil, current: false))
        #expect(
            orphan.contains("parent:   1 (collected)") && orphan.contains("unknown (the parent was garbage collected)"))
    }

    @Test func gcReportSaysWhatWasFreed() {
        let gc = GarbageCollection(
            dryRun: true, keepLast: 1,
            machines: [
                .init(
                    machine: "web-1", current: 1, kept: [1, 3], removed: [2],
                    reasons: ["1": ["current"], "3": ["newest"]])
            ],
            removedChunks: 2, bytesFreed: 2 << 20, remainingChunks: 5, remainingBytes: 5 << 20)
        let text = Gold.ImageCommand.GC.render(gc)
        #expect(text.contains("web-1    1        1(current) 3(newest)  2"))
        #expect(
            text.hasSuffix(
                "dry run: 1 version (keep 1); would free 2 chunks, 2 MiB; the store would hold 5 chunks, 5 MiB"))
    }

    @Test func progressPrintsAtMostOnceASecondAndAlwaysTheEnd() {
        var meter = ProgressMeter(label: "web-1 version 2 disk 0")
        let t0 = Date(timeIntervalSince1970: 1000)
        #expect(
            meter.update(done: 1 << 20, total: 10 << 20, now: t0) == "web-1 version 2 disk 0: 1 MiB of 10 MiB (10%)\n")
        #expect(meter.update(done: 2 << 20, total: 10 << 20, now: t0 + 0.5) == nil)
        #expect(
            meter.update(done: 4 << 20, total: 10 << 20, now: t0 + 2)
                == "web-1 version 2 disk 0: 4 MiB of 10 MiB (40%) 2 MiB/s\n")
        #expect(meter.update(done: 10 << 20, total: 10 << 20, now: t0 + 2.1) != nil)
    }
}
