import Foundation
import GoldCore
import GoldSpawn

/// The Debian package that ships each tool, for "install X" messages.
enum ToolPackage {
    static let packages: [String: String] = [
        "sfdisk": "fdisk", "mkfs.ext4": "e2fsprogs", "debugfs": "e2fsprogs", "dumpe2fs": "e2fsprogs",
        "tune2fs": "e2fsprogs",
        "mkfs.vfat": "dosfstools",
        "mcopy": "mtools", "mkswap": "util-linux", "grub-mkimage": "grub-common",
        "grub-editenv": "grub-common", "qemu-img": "qemu-utils", "mmdebstrap": "mmdebstrap", "tar": "tar",
        "cp": "coreutils", "find": "findutils", "touch": "coreutils",
    ]
    static func package(for program: String) -> String { packages[program] ?? program }
}

extension ProgramRunner {
    /// Runs an image tool (`sfdisk`, `mkfs.ext4`, `mcopy`, `grub-mkimage`, `qemu-img`, `mmdebstrap`, …) with no
    /// deadline (a base tree takes as long as the mirror does; cancelling the build stops it) and throws a
    /// ``GoldError`` naming it, and its Debian package when missing, unless it exits 0.
    @discardableResult
    func check(
        _ program: String, _ arguments: [String], environment: [String: String] = [:], input: Data? = nil,
        context: String
    ) async throws -> InvocationResult {
        let result: InvocationResult
        do {
            result = try await run(
                Invocation(
                    program, arguments, environment: .inherited(adding: environment),
                    input: input.map { .bytes($0) } ?? .none,
                    timeout: nil))
        } catch let failure as SpawnError where failure.reason == .notFound {
            throw GoldError(
                .unavailable, "\(program) is not installed (Debian package \(ToolPackage.package(for: program)))",
                at: context)
        } catch let failure as SpawnError {
            throw GoldError(.io, failure.description, at: context)
        }
        guard result.exitCode == 0 else {
            let detail = (result.stderr.isEmpty ? result.stdout : result.stderr)
                .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").suffix(3)
                .joined(separator: " | ")
            throw GoldError(.io, "\(program) failed (exit \(result.exitCode)): \(detail)", at: context)
        }
        return result
    }
}
