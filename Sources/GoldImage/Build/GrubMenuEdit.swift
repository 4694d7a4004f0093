import Foundation
import GoldCore

/// Edits to a Gold `grub.cfg` on a machine's disk, as the agent makes them during a kernel upgrade. Pure text in,
/// text out: entries are recognised by their stable `--id gold-kernel-VERSION`, nothing else is touched.
public enum GrubMenuEdit {
    /// A menu entry's lines, from `menuentry` to its closing `}`.
    struct Entry {
        var id: String
        var lines: Range<Int>
    }

    static func entries(_ lines: [String]) -> [Entry] {
        var found: [Entry] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            if line.hasPrefix("menuentry "), let id = Self.id(of: line) {
                var end = index + 1
                while end < lines.count && lines[end] != "}" { end += 1 }
                found.append(Entry(id: id, lines: index..<min(end + 1, lines.count)))
                index = end + 1
            } else {
                index += 1
            }
        }
        return found
    }

    static func id(of menuentry: String) -> String? {
        let words = menuentry.split(separator: " ")
        guard let at = words.firstIndex(of: "--id"), at + 1 < words.count else { return nil }
        return String(words[at + 1])
    }

    /// The kernel entries' versions, in menu order.
    public static func kernels(in config: String) -> [String] {
        entries(config.components(separatedBy: "\n")).compactMap {
            $0.id.hasPrefix("gold-kernel-") ? String($0.id.dropFirst("gold-kernel-".count)) : nil
        }
    }

    /// The root filesystem UUID the first kernel entry boots (`root=UUID=…`).
    public static func rootFilesystemUUID(in config: String) -> String? {
        for line in config.components(separatedBy: "\n")
        where line.trimmingCharacters(in: .whitespaces).hasPrefix("linux ") {
            for word in line.split(separator: " ") where word.hasPrefix("root=UUID=") {
                return String(word.dropFirst("root=UUID=".count))
            }
        }
        return nil
    }

    /// Adds (or replaces) an entry for kernel `version`, modelled on the first kernel entry: same boot filesystem
    /// and arguments, its own `vmlinuz-VERSION`; without an initrd, the root is found by `root=PARTUUID=`.
    /// The entry goes right after the last kernel entry, so the menu's default and the netboot entry stay as they were.
    public static func addingKernel(_ config: String, version: String, initrd: Bool, rootPartitionUUID: String?) throws
        -> String
    {
        var lines = config.components(separatedBy: "\n")
        let id = "gold-kernel-\(version)"
        if let existing = entries(lines).first(where: { $0.id == id }) { lines.removeSubrange(existing.lines) }
        let kernels = entries(lines).filter { $0.id.hasPrefix("gold-kernel-") }
        guard let model = kernels.first, let last = kernels.last else {
            throw GoldError(
                .invalidInput,
                "grub.cfg has no Gold kernel entry (menuentry … --id gold-kernel-VERSION) to model the new one on")
        }
        let old = String(model.id.dropFirst("gold-kernel-".count))
        var entry: [String] = []
        for line in lines[model.lines] {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("initrd ") {
                if initrd {
                    entry.append(line.replacingOccurrences(of: "initrd.img-\(old)", with: "initrd.img-\(version)"))
                }
                continue
            }
            var edited = line.replacingOccurrences(of: model.id, with: id)
                .replacingOccurrences(of: "vmlinuz-\(old)", with: "vmlinuz-\(version)")
                .replacingOccurrences(of: "Linux \(old)", with: "Linux \(version)")
            if trimmed.hasPrefix("linux ") && !initrd {
                guard let part = rootPartitionUUID else {
                    throw GoldError(
                        .invalidInput, "kernel \(version) has no initrd: its entry needs the root partition's PARTUUID")
                }
                edited = edited.split(separator: " ", omittingEmptySubsequences: false).map {
                    $0.hasPrefix("root=UUID=") ? "root=PARTUUID=\(part.lowercased())" : String($0)
                }.joined(separator: " ")
            }
            entry.append(edited)
        }
        let insertAt = last.lines.upperBound
        lines.insert(contentsOf: [""] + entry, at: insertAt)
        return lines.joined(separator: "\n")
    }

    /// Removes the entry for kernel `version`; unchanged when there is none.
    public static func removingKernel(_ config: String, version: String) -> String {
        var lines = config.components(separatedBy: "\n")
        guard let entry = entries(lines).first(where: { $0.id == "gold-kernel-\(version)" }) else { return config }
        var range = entry.lines
        if range.lowerBound > 0 && lines[range.lowerBound - 1].isEmpty {
            range = (range.lowerBound - 1)..<range.upperBound
        }
        lines.removeSubrange(range)
        return lines.joined(separator: "\n")
    }
}
