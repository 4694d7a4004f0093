import Foundation
import GoldSpawn
import Testing

@testable import GoldNetboot

@Suite struct CPIOWriterTests {
    static let entries: [ArchiveEntry] = [
        .directory("dev"),
        ArchiveEntry(path: "dev/console", kind: .characterDevice(major: 5, minor: 1), permissions: 0o600),
        .text("init", "#!/bin/sh\necho hi\n", permissions: 0o755),
        .symlink("lib", to: "usr/lib"),
        .text("a", ""),
        .text("abc", "x"),
    ]

    func archive(_ entries: [ArchiveEntry], mtime: UInt32 = 1_700_000_000) throws -> [UInt8] {
        var writer = CPIOWriter(sink: MemorySink(), mtime: mtime)
        for entry in entries { try writer.append(entry) }
        return try writer.finish().bytes
    }

    @Test func headerOfOneFileIsByteExact() throws {
        let bytes = try archive([.text("a", "xyz", permissions: 0o644)], mtime: 0x10)
        let header =
            "070701" + "00000001" + "000081A4" + "00000000" + "00000000" + "00000001" + "00000010" + "00000003"
            + "00000000" + "00000000" + "00000000" + "00000000" + "00000002" + "00000000"
        #expect(Array(bytes[0..<110]) == Array(header.utf8))
        // name "a\0" ends at 112 (a multiple of 4); data "xyz" then one byte of padding.
        #expect(Array(bytes[110..<116]) == [0x61, 0, 0x78, 0x79, 0x7a, 0])
        #expect(bytes.count % 4 == 0)
    }

    @Test func readsBackEveryEntry() throws {
        let parsed = try NewcReader.parse(try archive(Self.entries))
        #expect(parsed.map(\.name) == ["dev", "dev/console", "init", "lib", "a", "abc"])
        #expect(parsed[0].mode == 0o040755)
        #expect(parsed[1].mode == 0o020600 && parsed[1].rdevMajor == 5 && parsed[1].rdevMinor == 1)
        #expect(parsed[2].mode == 0o100755 && parsed[2].text == "#!/bin/sh\necho hi\n")
        #expect(parsed[3].mode == 0o120777 && parsed[3].text == "usr/lib")
        #expect(parsed.allSatisfy { $0.mtime == 1_700_000_000 })
    }

    @Test func copiesHostFiles() throws {
        let dir = try TemporaryDirectory()
        let payload = (0..<300_000).map { UInt8($0 % 251) }
        try Data(payload).write(to: URL(fileURLWithPath: dir.path + "/blob"))
        let parsed = try NewcReader.parse(
            try archive([ArchiveEntry(path: "blob", kind: .hostFile(path: dir.path + "/blob"), permissions: 0o600)]))
        #expect(parsed.first?.data == payload)
    }

    @Test func missingHostFileIsAnError() throws {
        var writer = CPIOWriter(sink: MemorySink(), mtime: 0)
        #expect(throws: NetbootError.self) {
            try writer.append(ArchiveEntry(path: "x", kind: .hostFile(path: "/nonexistent/x"), permissions: 0o644))
        }
    }

    @Test func sameEntriesGiveSameBytes() throws {
        #expect(try archive(Self.entries) == archive(Self.entries))
        #expect(try archive(Self.entries, mtime: 1) != archive(Self.entries, mtime: 2))
    }

    /// GNU cpio agrees with the writer on names, types and contents.
    @Test func gnuCpioListsAndExtractsTheArchive() async throws {
        let cpio = try requireTool("cpio", package: "cpio")
        let dir = try TemporaryDirectory()
        let file = dir.path + "/a.cpio"
        try Data(try archive(Self.entries.filter { if case .characterDevice = $0.kind { false } else { true } }))
            .write(to: URL(fileURLWithPath: file))
        let list = try await SystemRunner().run(
            Invocation(cpio, ["-it", "--quiet"], input: .file(file), timeout: .seconds(60)))
        #expect(list.exitCode == 0, "\(list.stderr)")
        #expect(list.stdout.split(separator: "\n") == ["dev", "init", "lib", "a", "abc"])
        let out = dir.path + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let extract = try await SystemRunner().run(
            Invocation(cpio, ["-id", "--quiet"], workingDirectory: out, input: .file(file), timeout: .seconds(60)))
        #expect(extract.exitCode == 0, "\(extract.stderr)")
        #expect(try String(contentsOfFile: out + "/init", encoding: .utf8) == "#!/bin/sh\necho hi\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: out + "/lib") == "usr/lib")
    }
}
