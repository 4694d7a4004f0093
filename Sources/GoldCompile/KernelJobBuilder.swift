import Foundation
import GoldCore

/// Builds a kernel: unpack, base config, merge fragments (`merge_config.sh -m`), `make olddefconfig`, verify
/// every requested option, `bzImage` and modules, reproducibly (fixed KBUILD_BUILD_* values).
struct KernelJobBuilder {
    var inputs: KernelInputs
    var session: BuildSession
    var jobs: Int

    /// Fixed so the same inputs give the same image (Documentation/kbuild/reproducible-builds.rst).
    static let reproducible = [
        "KBUILD_BUILD_TIMESTAMP": "Thu Jan  1 00:00:00 UTC 1970", "KBUILD_BUILD_USER": "gold",
        "KBUILD_BUILD_HOST": "gold", "KBUILD_BUILD_VERSION": "1",
    ]

    /// The files to publish and what the build found.
    func build() async throws -> ([ArtifactUpload], ArtifactMetadata.KernelBuild) {
        let src = session.sourceDir
        try await session.unpack(inputs.source)
        // `LOCALVERSION=` (set, empty) keeps setlocalversion from appending `+` for an unclean tree.
        let make = ["make", "LOCALVERSION="]
        let env = Self.reproducible

        switch inputs.base {
        case "tinyconfig", "defconfig": try await session.run("config", make + [inputs.base], environment: env)
        default:
            guard let path = inputs.baseConfigPath else {
                throw StepFailure(step: "config", message: "no base config file")
            }
            try await session.run("config", ["cp", path, src + "/.config"])
        }
        let requested = inputs.requestedOptions
        let fragmentFile = session.buildDir + "/gold.config"
        try KernelConfig.fragmentFile(requested).write(toFile: fragmentFile, atomically: true, encoding: .utf8)
        try await session.run(
            "config", ["sh", "scripts/kconfig/merge_config.sh", "-m", ".config", fragmentFile], environment: env)
        try await session.run("config", make + ["olddefconfig"], environment: env)

        let configText = try String(contentsOfFile: src + "/.config", encoding: .utf8)
        let config = KernelConfig(parsing: configText)
        let mismatches = config.mismatches(requested)
        guard mismatches.isEmpty else {
            throw StepFailure(
                step: "verify",
                message:
                    "\(mismatches.count) requested option(s) did not survive make olddefconfig (unknown, or a dependency is off): "
                    + mismatches.map(\.option).joined(separator: ", "),
                missingOptions: mismatches.map(\.description))
        }
        session.note("verified \(requested.count) requested options in .config")

        try await session.run("build", make + ["-j\(jobs)", "bzImage"], environment: env)
        var uploads = [
            ArtifactUpload(name: "bzImage", path: src + "/arch/x86/boot/bzImage"),
            ArtifactUpload(name: "System.map", path: src + "/System.map"),
            ArtifactUpload(name: "config", path: src + "/.config"),
        ]
        let modules = config.values["CONFIG_MODULES"] == "y"
        if modules {
            let staging = session.buildDir + "/staging"
            try await session.run("modules", make + ["-j\(jobs)", "modules"], environment: env)
            try await session.run(
                "modules", make + ["modules_install", "INSTALL_MOD_PATH=\(staging)"], environment: env)
            // modules_install links build/ and source/ back into this work dir: meaningless on a machine.
            let base = staging + "/lib/modules"
            for release in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] {
                for link in ["build", "source"] {
                    try? FileManager.default.removeItem(atPath: "\(base)/\(release)/\(link)")
                }
            }
            let tarball = session.outputDir + "/modules.tar"
            try await session.run(
                "modules",
                [
                    "tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-cf", tarball,
                    "-C", staging, "lib",
                ])
            uploads.append(ArtifactUpload(name: "modules.tar", path: tarball))
        } else {
            session.note("CONFIG_MODULES is off: no modules to build")
        }
        let release = try await session.output("release", make + ["-s", "kernelrelease"])
        session.note("kernel release \(release)")
        let info = ArtifactMetadata.KernelBuild(
            release: release, configSHA256: Hashing.sha256(Data(configText.utf8)),
            optionsVerified: requested.map(KernelConfig.line), modules: modules)
        return (uploads, info)
    }
}
