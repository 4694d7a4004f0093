import Foundation
import GoldImage

/// One timed build and import.
struct BuildProfile {
    var total: Double
    var build: Double
    var importSeconds: Double
    var steps: [(String, Double)]
    var tools: [(program: String, calls: Int, seconds: Double)]
    var stats: ImportStats

    func line(_ label: String) -> String {
        let stepText = steps.map { "\($0.0) \(fmt($0.1))" }.joined(separator: ", ")
        let toolText = tools.map { "\($0.program)×\($0.calls) \(fmt($0.seconds))" }.joined(separator: ", ")
        return
            "\(label): \(fmt(total)) s (build \(fmt(build)), import \(fmt(importSeconds))); new \(stats.newChunks) of "
            + "\(stats.totalChunks) chunks (\(stats.newBytes >> 20) MiB); steps: \(stepText); tools: \(toolText)"
    }
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// The Markdown report.
struct Report {
    var build: String
    var machines: [BuildProfile]
    /// Extra machines built with the base-tree and base-layer caches off.
    var uncached: [BuildProfile] = []
    var version2: BuildProfile
    var storedBytes: UInt64
    var pipeline: [Double]
    var anatomy: [(String, Double)]

    var markdown: String {
        var out: [String] = []
        let host = ProcessInfo.processInfo
        out.append(
            "Gold image build benchmark (\(build) build; `sync` before each timed build), \(host.activeProcessorCount) CPUs, load average "
                + ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
                    .joined(separator: " ") ?? "?"))
        out.append("")
        let warm = Array(machines.dropFirst())
        out.append(
            "| measure | first machine (empty store and caches) | per extra machine, cached base tree and layer: "
                + "median (min–max) of \(warm.count) | per extra machine, caches off: median (min–max) of "
                + "\(uncached.count) |")
        out.append("|---|---|---|---|")
        func range(_ values: [Double]) -> String {
            values.isEmpty ? "" : "\(fmt(median(values))) (\(fmt(values.min()!))–\(fmt(values.max()!)))"
        }
        func row(_ name: String, _ first: Double, _ rest: [Double], _ cold: [Double]) {
            out.append("| \(name) | \(fmt(first)) | \(range(rest)) | \(range(cold)) |")
        }
        guard let first = machines.first else { return out.joined(separator: "\n") }
        row("**total, s**", first.total, warm.map(\.total), uncached.map(\.total))
        row("build (to raw image), s", first.build, warm.map(\.build), uncached.map(\.build))
        row(
            "import into the chunk store, s", first.importSeconds, warm.map(\.importSeconds),
            uncached.map(\.importSeconds))
        // Every step and tool any build went through, in order of first appearance (a cached step appears
        // only in later builds); a build that skipped one counts 0.
        var steps: [String] = []
        var tools: [String] = []
        for profile in machines + uncached {
            for (step, _) in profile.steps where step != "import" && !steps.contains(step) { steps.append(step) }
            for tool in profile.tools where !tools.contains(tool.program) { tools.append(tool.program) }
        }
        func seconds(_ profile: BuildProfile, step: String) -> Double { profile.steps.first { $0.0 == step }?.1 ?? 0 }
        func seconds(_ profile: BuildProfile, tool: String) -> Double {
            profile.tools.first { $0.program == tool }?.seconds ?? 0
        }
        for step in steps {
            row(
                "step: \(step)", seconds(first, step: step), warm.map { seconds($0, step: step) },
                uncached.map { seconds($0, step: step) })
        }
        for tool in tools {
            let calls = Set((machines + uncached).compactMap { $0.tools.first { $0.program == tool }?.calls }).sorted()
            row(
                "tool: \(tool) (\(calls.map(String.init).joined(separator: " or "))×)", seconds(first, tool: tool),
                warm.map { seconds($0, tool: tool) }, uncached.map { seconds($0, tool: tool) })
        }
        out.append("")
        let perMachine = warm.map(\.stats.newBytes)
        out.append(
            "Store: first machine \(first.stats.newBytes >> 20) MiB; per extra machine "
                + "\(perMachine.isEmpty ? 0 : (perMachine.reduce(0, +) / UInt64(perMachine.count)) >> 20) MiB (mean); "
                + "version 2 of one machine (one binary changed): \(version2.stats.newChunks) new of "
                + "\(version2.stats.totalChunks) chunks = \(version2.stats.newBytes >> 20) MiB, \(fmt(version2.total)) s; "
                + "\(storedBytes >> 20) MiB of chunks for \(machines.count + uncached.count + 1) images "
                + "(\((machines.count + uncached.count + 1) * 2048) MiB logical).")
        if !pipeline.isEmpty {
            let gold = median(warm.map(\.total))
            let goldBuild = median(warm.map(\.build))
            let plain = median(pipeline)
            out.append("")
            out.append(
                "Plain pipeline (plain-pipeline.sh: cp -a of the extracted base, the same per-machine files, sfdisk GPT, "
                    + "mkfs.vfat + mcopy, mkfs.ext4 -d): median \(fmt(plain)) s of \(pipeline.count) "
                    + "(\(pipeline.map(fmt).joined(separator: ", "))). Gold per extra machine (cached base tree and layer) / "
                    + "pipeline: build + import \(fmt(gold / plain))×, build alone \(fmt(goldBuild / plain))×"
                    + (uncached.isEmpty
                        ? "."
                        : "; with the caches off: build + import \(fmt(median(uncached.map(\.total)) / plain))×, "
                            + "build alone \(fmt(median(uncached.map(\.build)) / plain))×."))
        }
        if !anatomy.isEmpty {
            out.append("")
            out.append(
                "Import anatomy, single thread, on the last image: "
                    + anatomy.map { "\($0.0) \(fmt($0.1)) s" }.joined(separator: "; ") + ".")
        }
        return out.joined(separator: "\n")
    }
}
