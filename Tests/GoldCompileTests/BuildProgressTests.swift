import Foundation
import Testing

@testable import GoldCompile

@Suite struct BuildProgressTests {
    @Test(arguments: [
        ("  CC      kernel/fork.o", true), ("  HOSTCC  scripts/basic/fixdep", true),
        ("  CC [M]  fs/ext4/inode.o", true),
        ("  LD      vmlinux.o", true), ("  AR      lib/lib.a", true), ("make[1]: Entering directory", false),
        ("gold-compile: [build] make -j2 bzImage", false), ("  C", false), ("    CC  indented too far", false),
        ("  cc      lowercase.o", false), ("", false), ("  VERYLONGTAGNAME x", false),
    ])
    func objectLines(line: String, counted: Bool) {
        #expect(BuildProgress.isObjectLine(Array(line.utf8)) == counted)
    }

    @Test func countsLinesSplitAcrossChunks() {
        var progress = BuildProgress()
        let log = "gold-compile: start\n  CC      a.o\n  CC      b.o\nwarning: x\n  LD      c.o\n"
        let bytes = Array(log.utf8)
        // Fed in 3-byte pieces: every split point inside a line.
        for start in stride(from: 0, to: bytes.count, by: 3) {
            progress.feed(bytes[start..<min(start + 3, bytes.count)], now: 1)
        }
        #expect(progress.built == 3)
        // A line without its newline yet is not counted until it ends.
        progress.feed(Array("  CC      d.o".utf8), now: 2)
        #expect(progress.built == 3)
        progress.feed([UInt8(ascii: "\n")], now: 2)
        #expect(progress.built == 4)
    }

    @Test func estimatesFromTheLastBuild() {
        var progress = BuildProgress(expected: .init(objects: 1000, seconds: 400, at: Date()))
        #expect(progress.line(now: 0) == "gold-compile: progress 0/1000 objects (0%), about 6m40s left")
        // Under 5%: the last build's time scaled.
        progress.feed(Array(String(repeating: "  CC      x.o\n", count: 40).utf8), now: 10)
        #expect(progress.fraction == 0.04)
        #expect(progress.secondsLeft(now: 12) == 384)
        // From 5%: this build's own pace (100 objects since t=10 took 20 s: 10% done, 180 s left).
        progress.feed(Array(String(repeating: "  CC      x.o\n", count: 60).utf8), now: 30)
        #expect(progress.secondsLeft(now: 30) == 180)
        #expect(progress.line(now: 30) == "gold-compile: progress 100/1000 objects (10%), about 3m00s left")
        // Never 100% before the build ends, even past the last count.
        progress.feed(Array(String(repeating: "  CC      x.o\n", count: 2000).utf8), now: 40)
        #expect(progress.fraction == 0.99)
    }

    @Test func withoutHistoryItCountsOnly() {
        var progress = BuildProgress()
        progress.feed(Array("  CC      a.o\n".utf8), now: 0)
        #expect(progress.fraction == nil)
        #expect(progress.line(now: 5).hasPrefix("gold-compile: progress 1 objects built (no earlier build"))
    }

    @Test func parsesItsOwnLines() throws {
        let full = try #require(BuildProgress.parse("gold-compile: progress 812/1650 objects (49%), about 3m20s left"))
        #expect(full.built == 812 && full.expected == 1650)
        let bare = try #require(BuildProgress.parse("gold-compile: progress 12 objects built (no earlier build …)"))
        #expect(bare.built == 12 && bare.expected == nil)
        #expect(BuildProgress.parse("  CC      a.o") == nil)
        #expect(BuildProgress.parse("gold-compile: progress x/y") == nil)
        #expect(BuildProgress.parse("gold-compile: progress 5/0 objects") == nil)
        #expect(BuildProgress.parse("gold-compile: progress 99999999999999999999999/1") == nil)
        for hostile in [
            "gold-compile: progress /", "gold-compile: progress ", "gold-compile: progress //",
            "gold-compile: progress 1/2/3", "gold-compile: progress -1/5",
        ] {
            #expect(BuildProgress.parse(Substring(hostile)) == nil)
        }
    }

    @Test func historyPrefersTheSameConfigurationThenTheSameSource() throws {
        let dir = NSTemporaryDirectory() + "gold-history-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func inputs(_ fragments: [String], source: String = "sha256:aa") -> KernelInputs {
            KernelInputs(
                sourceName: "s", source: SourceInput(layout: .tarball, path: "/s", identity: source),
                base: "tinyconfig",
                baseIdentity: "tinyconfig", fragments: fragments, localVersion: nil, toolchain: "gcc")
        }
        var history = BuildHistory()
        history.record(inputs(["CONFIG_A=y"]), .init(objects: 100, seconds: 10, at: Date(timeIntervalSince1970: 1)))
        history.record(inputs(["CONFIG_B=y"]), .init(objects: 200, seconds: 20, at: Date(timeIntervalSince1970: 2)))
        try history.save(dir + "/history.json")
        let loaded = BuildHistory.load(dir + "/history.json")
        #expect(loaded == history)
        #expect(loaded.expected(for: inputs(["CONFIG_A=y"]))?.objects == 100)
        #expect(loaded.expected(for: inputs(["CONFIG_C=y"]))?.objects == 200)
        #expect(loaded.expected(for: inputs(["CONFIG_A=y"], source: "sha256:bb")) == nil)
        // A damaged file is an empty history, not an error.
        try Data("{".utf8).write(to: URL(fileURLWithPath: dir + "/history.json"))
        #expect(BuildHistory.load(dir + "/history.json").entries.isEmpty)
    }
}
