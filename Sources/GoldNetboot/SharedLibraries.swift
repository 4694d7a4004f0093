import Foundation

/// Reads `ldd`'s output: the shared objects a dynamically linked program loads, with the paths they load from.
public enum SharedLibraries {
    /// Absolute paths from `ldd` lines (`libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)`,
    /// `/lib64/ld-linux-x86-64.so.2 (0x…)`); the vDSO has no file and is left out. A static program gives `[]`.
    public static func parse(lddOutput text: String, program: String) throws -> [String] {
        var paths: [String] = []
        for raw in text.split(separator: "\n") {
            let line = String(raw).trimmingSpaces
            if line.contains("not a dynamic executable") || line.contains("statically linked") { return [] }
            if line.hasSuffix("=> not found") {
                let library = line.split(separator: " ").first.map(String.init) ?? line
                throw NetbootError(
                    .missingInput, "\(program) needs \(library), which is not installed on the build host")
            }
            let candidate: Substring
            if let arrow = line.range(of: "=> ") {
                candidate = line[arrow.upperBound...]
            } else {
                candidate = Substring(line)
            }
            let path = candidate.split(separator: " ").first.map(String.init) ?? ""
            if path.hasPrefix("/") && !paths.contains(path) { paths.append(path) }
        }
        return paths
    }
}
