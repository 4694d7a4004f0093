import Foundation
import GoldAPI
import GoldCore
import Testing

@testable import GoldDirector

@Suite struct CommandResultLimitTests {
    @Test func bigTextIsCutAndManyOutputsRefused() throws {
        let huge = String(repeating: "x", count: 1 << 20)
        let bounded = try AgentCommandResult(
            machine: "m", ok: false, detail: huge, outputs: ["log": huge, "image.version": "3"]
        ).bounded()
        #expect(bounded.detail?.hasSuffix("(cut at 65536 bytes)") == true)
        #expect((bounded.detail?.utf8.count ?? 0) < 66_000)
        #expect(bounded.outputs?["image.version"] == "3")
        #expect((bounded.outputs?["log"]?.utf8.count ?? 0) < 66_000)
        let many = Dictionary(uniqueKeysWithValues: (0..<65).map { ("k\($0)", "v") })
        #expect(throws: GoldError.self) {
            try AgentCommandResult(machine: "m", ok: true, detail: nil, outputs: many).bounded()
        }
        #expect(throws: GoldError.self) {
            try AgentCommandResult(
                machine: "m", ok: true, detail: nil, outputs: [String(repeating: "k", count: 200): "v"]
            )
            .bounded()
        }
        // A legitimate result passes unchanged.
        let plain = AgentCommandResult(machine: "m", ok: true, detail: "written", outputs: ["image.version": "3"])
        #expect(try plain.bounded().detail == "written" && plain.outputs == (try plain.bounded()).outputs)
    }
}
