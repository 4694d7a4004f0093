import Foundation

/// Builds a binary: unpack, run the recipe's commands with `CC`, `CFLAGS` (`-march=`), `PREFIX` and `DESTDIR`,
/// and record every file installed under `DESTDIR` with its path, mode and SHA-256.
struct BinaryJobBuilder {
    var inputs: BinaryInputs
    var session: BuildSession
    var jobs: Int

    func build() async throws -> ([ArtifactUpload], ArtifactMetadata.BinaryBuild) {
        try await session.unpack(inputs.source)
        let dest = session.buildDir + "/dest"
        try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
        let variables = [
            "CC": inputs.cc, "CFLAGS": inputs.cflags, "PREFIX": inputs.prefix, "DESTDIR": dest,
            "MAKEFLAGS": "-j\(jobs)",
        ]
        session.note("CC=\(inputs.cc) CFLAGS=\(inputs.cflags) PREFIX=\(inputs.prefix)")
        guard !inputs.commands.isEmpty else {
            throw StepFailure(step: "build", message: "binary \(inputs.name) has no build commands")
        }
        for command in inputs.commands {
            try await session.run("build", ["/bin/sh", "-c", command], environment: variables)
        }

        var uploads: [ArtifactUpload] = []
        var outputs: [ArtifactMetadata.BinaryBuild.Output] = []
        for entry in try Hashing.walk(dest) {
            switch entry.type {
            case .file(let mode):
                let path = dest + "/" + entry.path
                let size = try Hashing.size(path)
                uploads.append(ArtifactUpload(name: entry.path, path: path, mode: mode & 0o7777))
                outputs.append(
                    .init(
                        path: "/" + entry.path, mode: mode & 0o7777, sha256: try Hashing.sha256(file: path), size: size)
                )
            case .symlink(let target):
                session.note("symlink /\(entry.path) -> \(target) not recorded (only regular files are artifacts)")
            case .directory: break
            }
        }
        guard !outputs.isEmpty else {
            throw StepFailure(
                step: "install",
                message:
                    "binary \(inputs.name) installed nothing into DESTDIR; the recipe must install into $DESTDIR$PREFIX"
            )
        }
        for output in outputs {
            session.note("output \(output.path) mode \(String(output.mode, radix: 8)) sha256 \(output.sha256)")
        }
        return (uploads, .init(cc: inputs.cc, cflags: inputs.cflags, prefix: inputs.prefix, outputs: outputs))
    }
}
