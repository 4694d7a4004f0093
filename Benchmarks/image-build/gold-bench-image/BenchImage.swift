import ArgumentParser
import Foundation
import GoldCore
import GoldImage
import GoldSpawn

/// Per-machine 2 GiB Debian images from one cached mmdebstrap base: time per build step and per tool, the import into
/// the chunk store, store bytes per extra machine and per extra version, and a plain shell pipeline side by side.
/// Progress goes to stderr, the Markdown report to stdout.
@main
struct BenchImage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gold-bench-image",
        abstract: "Times per-machine image builds from a cached base, step by step, beside a plain shell pipeline.")

    @Option(help: "Base cache and scratch store (env GOLD_BENCH_DATA).")
    var data = ProcessInfo.processInfo.environment["GOLD_BENCH_DATA"] ?? "/var/tmp/gold-image-bench"
    @Option(help: "Machines built into one store (the first fills it; the others are the per-machine case).")
    var machines = 10
    @Option(help: "Runs of the plain pipeline, interleaved with the machines after the first.") var pipelineRuns = 3
    @Option(
        help: "Extra machines built with the base-tree and base-layer caches off (tar -x, mkfs.ext4 -d), interleaved.")
    var uncachedRuns = 3
    @Option(help: "The plain pipeline script; none skips the comparison.") var pipeline = "none"
    @Option(help: "Label for the report: how this binary was built (release or debug).") var build = "release"
    @Flag(help: "Also time the import's parts on the last image (read, zero test, whole SHA-256, chunk SHA-256).")
    var importAnatomy = false

    func run() async throws {
        let dataURL = URL(fileURLWithPath: data)
        guard let mirror = DebianRecipe.hostMirror() else { throw ValidationError("no Debian mirror in /etc/apt") }
        let recipe = DebianRecipe(mirror: mirror)
        let baseStart = ContinuousClock.now
        let tarball = try await ImageBuilder(dataDirectory: dataURL).baseTarball(for: recipe)
        log(
            "base \(tarball.lastPathComponent.prefix(12)) (mmdebstrap or cache hit): \(fmt((ContinuousClock.now - baseStart).seconds)) s"
        )

        let store = ImageStore(root: dataURL.appendingPathComponent("store-\(UUID().uuidString.prefix(6))"))
        defer { try? FileManager.default.removeItem(at: store.root) }
        // The first build unpacks the base and formats the base layer into empty caches (cold); later ones link the
        // unpacked tree and copy the layer from the caches (warm).
        try? FileManager.default.removeItem(at: dataURL.appendingPathComponent("base-layers"))
        try? FileManager.default.removeItem(at: dataURL.appendingPathComponent("base-trees"))
        var pipelineBase: URL?
        if pipeline != "none" { pipelineBase = try await extractOnce(tarball, into: dataURL) }

        var profiles: [BuildProfile] = []
        var pipelineSeconds: [Double] = []
        var uncached: [BuildProfile] = []
        var keptImage: (URL, ImageBuildResult)?
        for i in 0..<machines {
            let keep = importAnatomy && i == machines - 1
            let profile = try await buildOne(
                BenchMachine.request("bench-\(i)", recipe: recipe), store: store, data: dataURL, change: .provision,
                keep: keep)
            profiles.append(profile.0)
            if let kept = profile.1 { keptImage = (kept.images[0], kept) }
            log(profile.0.line("machine \(i)"))
            if i >= 1, i <= pipelineRuns, let base = pipelineBase {
                let seconds = try runPipeline(base: base, data: dataURL, run: i)
                pipelineSeconds.append(seconds)
                log("plain pipeline run \(i): \(fmt(seconds)) s")
            }
            if i >= 1, i <= uncachedRuns {
                let cold = try await buildOne(
                    BenchMachine.request("bench-cold-\(i)", recipe: recipe), store: store, data: dataURL,
                    change: .provision, keep: false, caches: false
                ).0
                uncached.append(cold)
                log(cold.line("machine cold-\(i) (caches off)"))
            }
        }
        let v2 = try await buildOne(
            BenchMachine.request("bench-0", recipe: recipe, binary: String(repeating: "v2", count: 50_000)),
            store: store, data: dataURL, change: .softwareUpdate, keep: false
        ).0
        log(v2.line("bench-0 version 2"))
        let stored = try store.chunks.all().reduce(UInt64(0)) { $0 + $1.bytes }

        var anatomy: [(String, Double)] = []
        if let (image, result) = keptImage {
            anatomy = try ImportAnatomy.measure(image, store: store)
            ImageBuilder(dataDirectory: dataURL).discard(result)
        }
        print(
            Report(
                build: build, machines: profiles, uncached: uncached, version2: v2, storedBytes: stored,
                pipeline: pipelineSeconds,
                anatomy: anatomy
            ).markdown)
    }

    func buildOne(
        _ request: ImageBuildRequest, store: ImageStore, data: URL, change: ImageChange, keep: Bool,
        caches: Bool = true
    ) async throws -> (BuildProfile, ImageBuildResult?) {
        let profile = StepProfile()
        let builder = ImageBuilder(
            dataDirectory: data, runner: TimingRunner(inner: SystemRunner(), profile: profile),
            cachesBaseLayers: caches, cachesBaseTrees: caches)
        settle()
        let start = ContinuousClock.now
        let result = try await builder.build(request) { profile.mark($0.step) }
        let built = ContinuousClock.now
        profile.mark("import")
        let stats = try store.importImages(
            files: result.images, devices: result.plans.map(\.device), machine: request.machine.name, change: change,
            description: "bench", fileManifest: result.files)
        let imported = ContinuousClock.now
        profile.mark("remove work directory")
        if !keep { builder.discard(result) }
        let end = ContinuousClock.now
        return (
            BuildProfile(
                total: (end - start).seconds, build: (built - start).seconds, importSeconds: (imported - built).seconds,
                steps: profile.steps(until: end), tools: profile.tools, stats: stats),
            keep ? result : nil
        )
    }

    /// The pipeline copies an extracted tree, as a script would keep one; extracted once, untimed.
    func extractOnce(_ tarball: URL, into data: URL) async throws -> URL {
        let tree = data.appendingPathComponent(
            "pipeline-base-\(tarball.deletingPathExtension().lastPathComponent.prefix(12))")
        let done = tree.appendingPathExtension("complete")
        if FileManager.default.fileExists(atPath: done.path) { return tree }
        try? FileManager.default.removeItem(at: tree)
        try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
        try shell("tar", ["-xpf", tarball.path, "--numeric-owner", "-C", tree.path])
        _ = FileManager.default.createFile(atPath: done.path, contents: Data())
        return tree
    }

    func runPipeline(base: URL, data: URL, run: Int) throws -> Double {
        let work = data.appendingPathComponent("pipeline-work-\(run)")
        try? FileManager.default.removeItem(at: work)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let app = work.appendingPathComponent("app")
        try Data("v1".utf8).write(to: app)
        let image = work.appendingPathComponent("disk.raw")
        settle()
        let start = ContinuousClock.now
        try shell(
            pipeline,
            [base.path, "pipe-\(run)", image.path, work.appendingPathComponent("tmp").path, app.path, BenchMachine.key])
        let seconds = (ContinuousClock.now - start).seconds
        try shell("sh", ["-c", "e2fsck -fn \"$1?offset=$((65 << 20))\" >/dev/null", "sh", image.path])
        return seconds
    }
}

/// Every timed build starts with no dirty pages: the previous build's writes (about 1.4 GB for the pipeline) would
/// otherwise be written back during the next one and slow whichever tool comes after.
func settle() { sync() }

func log(_ line: String) { FileHandle.standardError.write(Data("[bench] \(line)\n".utf8)) }
func fmt(_ seconds: Double) -> String { String(format: "%.2f", seconds) }

/// Runs a program to completion; throws when it fails.
func shell(_ program: String, _ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program.contains("/") ? program : "/usr/bin/env")
    process.arguments = program.contains("/") ? arguments : [program] + arguments
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw GoldError(.io, "\(program) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
    }
}
