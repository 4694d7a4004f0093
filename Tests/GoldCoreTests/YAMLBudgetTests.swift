import Foundation
import GoldCore
import Testing

@Suite struct YAMLBudgetTests {
    /// Nine levels of ten aliases each: 10^9 nodes from a few hundred bytes.
    static let laughs: String = {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            text +=
                "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
                + "]\n"
        }
        return text + "machines: []\n"
    }()

    @Test func nestedAliasesAreRefusedBeforeATreeIsBuilt() throws {
        #expect(Self.laughs.utf8.count < 1000)
        do {
            _ = try FleetParser.parse(yaml: Self.laughs)
            Issue.record("accepted")
        } catch {
            #expect(error.problems.count == 1)
            #expect(
                error.description.contains("with its aliases expanded the document stands for more than 1000000 nodes"))
            // The line of the collection that crossed the limit.
            #expect(error.problems[0].location?.hasPrefix("fleet.yaml:") == true)
        }
        do {
            _ = try ServerConfig.parse(yaml: Self.laughs)
            Issue.record("gold.yaml accepted")
        } catch {
            #expect(error.description.contains("gold.yaml:"))
            #expect(error.description.contains("stands for more than"))
        }
    }

    @Test func aFewAliasesAreFine() throws {
        try YAMLBudget.standard.check("a: &a [1, 2]\nb: *a\nc: *a\n", file: "f")
        try YAMLBudget.standard.check(goodFleet, file: "fleet.yaml")
        // 10 aliases of 10 aliases of 10 scalars: 1,111 nodes, well under the limit.
        try YAMLBudget.standard.check(
            "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n",
            file: "f")
    }

    @Test func deepNestingIsRefused() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        do {
            try YAMLBudget.standard.check(deep, file: "f")
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("nests deeper than 64 levels"))
        }
        // libyaml itself refuses far deeper nesting; the parse then fails with an error, never a crash.
        let deeper = "machines: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: FleetValidationError.self) { try FleetParser.parse(yaml: deeper) }
        // Block style too.
        let block = (0..<100).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n") + " x\n"
        #expect(throws: FleetValidationError.self) { try YAMLBudget.standard.check(block, file: "f") }
    }

    /// Chained anchors each 40 levels deep: every one is within the limit, their expansion is not.
    @Test func chainedAnchorsCountTheirExpandedDepth() {
        var text = "a0: &a0 " + String(repeating: "[", count: 40) + "x" + String(repeating: "]", count: 40) + "\n"
        for level in 1...3 {
            text +=
                "a\(level): &a\(level) " + String(repeating: "[", count: 40) + "*a\(level - 1)"
                + String(repeating: "]", count: 40) + "\n"
        }
        do {
            try YAMLBudget.standard.check(text, file: "f")
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("with its aliases expanded the document nests deeper than 64 levels"))
        }
    }

    @Test func bigDocumentsAreRefusedBySize() {
        let budget = YAMLBudget(maxBytes: 100)
        do {
            try budget.check(String(repeating: "# comment\n", count: 20), file: "f")
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("the file is 200 bytes; at most 100 are accepted"))
        }
    }

    @Test func brokenYAMLIsLeftToTheParserToReport() throws {
        try YAMLBudget.standard.check("a: [1, 2\nb: *nowhere\n", file: "f")
        do {
            _ = try FleetParser.parse(yaml: "machines: [1, 2\n")
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("not valid YAML"))
        }
    }
}
