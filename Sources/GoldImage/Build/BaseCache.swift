import Foundation
import GoldCore
import GoldSpawn
import Logging

/// Base root filesystems built by mmdebstrap, cached as `<recipe hash>.tar`: built once, reused by every machine.
struct BaseCache: Sendable {
    let directory: URL
    let runner: any ProgramRunner
    let logger: Logger

    func tarball(for recipe: DebianRecipe) async throws -> URL {
        let target = directory.appendingPathComponent("\(recipe.hash).tar")
        if FileManager.default.fileExists(atPath: target.path) { return target }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let partial = directory.appendingPathComponent(".\(recipe.hash).\(UUID().uuidString).tar")
        defer { try? FileManager.default.removeItem(at: partial) }
        let started = ContinuousClock.now
        var arguments = ["--variant=\(recipe.variant)", "--mode=root"]
        if !recipe.packages.isEmpty { arguments.append("--include=\(recipe.packages.joined(separator: ","))") }
        arguments += [recipe.suite, partial.path, recipe.mirror]
        do {
            try await runner.check("mmdebstrap", arguments, context: "base \(recipe.suite)/\(recipe.variant)")
        } catch let error as GoldError {
            throw GoldError(error.code, "building the base failed: \(error.message)", at: error.location)
        }
        try FileManager.default.moveItem(at: partial, to: target)
        AtomicFile.syncDirectory(directory)
        logger.info(
            "built base root filesystem",
            metadata: [
                "recipe": "\(recipe.hash.prefix(12))",
                "seconds": "\((ContinuousClock.now - started).components.seconds)",
            ])
        return target
    }
}
