import Foundation

/// A kernel's `modules.dep` (written by `depmod`), resolved into the modules to carry and the order to load them.
public struct ModuleDependencies: Sendable, Equatable {
    /// Module name (`virtio_net`, dashes as underscores) → path relative to `/lib/modules/VERSION`.
    public private(set) var paths: [String: String] = [:]
    /// Module path → the paths of the modules it needs, as `modules.dep` lists them.
    public private(set) var dependencies: [String: [String]] = [:]
    /// Names of modules built into the kernel (`modules.builtin`): asking for one is not an error.
    public private(set) var builtin: Set<String> = []

    /// Parses `modules.dep` (`kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko …`) and `modules.builtin` (one path a line).
    public init(modulesDep: String, modulesBuiltin: String = "") throws {
        for (index, line) in modulesDep.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            guard let colon = line.firstIndex(of: ":") else {
                throw NetbootError(.badInput, "modules.dep line \(index + 1) has no ':': \(line)")
            }
            let path = String(line[..<colon]).trimmingSpaces
            guard !path.isEmpty else { throw NetbootError(.badInput, "modules.dep line \(index + 1) names no module") }
            paths[Self.name(ofPath: path)] = path
            dependencies[path] = line[line.index(after: colon)...].split(separator: " ").map(String.init)
        }
        builtin = Set(modulesBuiltin.split(separator: "\n").map { Self.name(ofPath: String($0).trimmingSpaces) })
    }

    /// `kernel/arch/x86/crypto/crc32c-intel.ko` → `crc32c_intel`.
    public static func name(ofPath path: String) -> String {
        var base = String(path.split(separator: "/").last ?? "")
        for suffix in [".ko.xz", ".ko.zst", ".ko.gz", ".ko"] where base.hasSuffix(suffix) {
            base.removeLast(suffix.count)
            break
        }
        return base.replacingOccurrences(of: "-", with: "_")
    }

    /// The modules `names` need, each after everything it depends on (paths relative to `/lib/modules/VERSION`).
    /// Built-in modules are left out; a module neither present nor built in is an error.
    public func loadOrder(for names: [String]) throws -> [String] {
        var order: [String] = []
        var done: Set<String> = []
        var visiting: Set<String> = []
        func visit(_ path: String) throws {
            if done.contains(path) { return }
            guard visiting.insert(path).inserted else {
                throw NetbootError(.badInput, "modules.dep has a dependency cycle through \(path)")
            }
            for dependency in dependencies[path] ?? [] {
                guard dependencies[dependency] != nil else {
                    throw NetbootError(
                        .badInput, "modules.dep: \(path) needs \(dependency), which has no line of its own")
                }
                try visit(dependency)
            }
            visiting.remove(path)
            done.insert(path)
            order.append(path)
        }
        for requested in names {
            let name = requested.replacingOccurrences(of: "-", with: "_")
            if let path = paths[name] {
                try visit(path)
            } else if !builtin.contains(name) {
                throw NetbootError(.missingInput, "kernel module \(requested) is neither in modules.dep nor built in")
            }
        }
        return order
    }

    /// `modules.dep` text for just `selected` (so busybox `modprobe` inside the initramfs sees a consistent set).
    public func modulesDep(for selected: [String]) -> String {
        selected.sorted().map { path in
            let needs = dependencies[path] ?? []
            return needs.isEmpty ? "\(path):\n" : "\(path): \(needs.joined(separator: " "))\n"
        }.joined()
    }

    /// Lines of `modules.alias` or `modules.softdep` whose module is one of `selected`.
    public static func filter(aliases text: String, keeping selected: [String]) -> String {
        let names = Set(selected.map(name(ofPath:)))
        return text.split(separator: "\n").filter { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 3, fields[0] == "alias" || fields[0] == "softdep" else { return false }
            let module = fields[0] == "alias" ? fields[fields.count - 1] : fields[1]
            return names.contains(String(module).replacingOccurrences(of: "-", with: "_"))
        }.map { $0 + "\n" }.joined()
    }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" || text.last == "\r" { text.removeLast() }
        return String(text)
    }
}
