import Foundation

/// Finding the services that use a binary: by running processes (`/proc/*/exe`) and by their units' `ExecStart`.
public enum ServiceFinder {
    /// Units whose ExecStart names `binary`, from `systemctl show --property=Id,ExecStart` output ("\n\n"-separated).
    public static func units(using binary: String, showOutput: String) -> [String] {
        showOutput.components(separatedBy: "\n\n").compactMap { block in
            var id: String?
            var uses = false
            for line in block.split(separator: "\n") {
                if line.hasPrefix("Id=") { id = String(line.dropFirst(3)) }
                if line.hasPrefix("ExecStart="), line.contains("path=\(binary) ") || line.contains("path=\(binary);") {
                    uses = true
                }
            }
            return uses ? id : nil
        }
    }

    /// PIDs whose executable is `binary` (also while it is being replaced: " (deleted)").
    public static func processes(using binary: String, procRoot: String = "/proc") -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: procRoot)) ?? []
        return entries.compactMap { entry in
            guard let pid = Int32(entry),
                let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(procRoot)/\(entry)/exe")
            else { return nil }
            return exe == binary || exe == binary + " (deleted)" ? pid : nil
        }.sorted()
    }
}
