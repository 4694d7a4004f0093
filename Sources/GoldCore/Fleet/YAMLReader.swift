import Yams

/// Walks a YAML tree, turning nodes into values and collecting every problem with its file, line and field.
struct YAMLReader {
    let file: String
    private var recorded: [GoldError] = []
    /// A node reached through several paths (a profile's value merged into every machine that uses it) is reported
    /// once, at its first path, naming the others: index of the first report by line, column and message.
    private var firstReport: [String: Int] = [:]
    private var alsoAt: [Int: [String]] = [:]

    var problems: [GoldError] {
        recorded.enumerated().map { index, problem in
            guard let others = alsoAt[index] else { return problem }
            var problem = problem
            let shown =
                others.prefix(5).joined(separator: ", ") + (others.count > 5 ? " and \(others.count - 5) more" : "")
            problem.message += " (the same line is also used by \(shown))"
            return problem
        }
    }

    init(file: String) { self.file = file }

    func location(_ node: Node?, _ path: String) -> String {
        if let line = node?.mark?.line { return "\(file):\(line) \(path)" }
        return "\(file) \(path)"
    }

    mutating func fail(_ node: Node?, _ path: String, _ message: String) {
        if let mark = node?.mark {
            let key = "\(mark.line):\(mark.column) \(message)"
            if let first = firstReport[key] {
                alsoAt[first, default: []].append(path)
                return
            }
            firstReport[key] = recorded.count
        }
        recorded.append(GoldError(.invalidInput, message, at: location(node, path)))
    }

    /// The node's key/value pairs by key, after refusing keys outside `allowed`.
    mutating func mapping(_ node: Node, _ path: String, allowed: [String]) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            fail(node, path, "expected a mapping with fields \(allowed.joined(separator: ", "))")
            return nil
        }
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                fail(key, path, "a field name must be text")
                continue
            }
            if !allowed.contains(name) {
                fail(key, "\(path).\(name)", "unknown field '\(name)'; allowed: \(allowed.joined(separator: ", "))")
                continue
            }
            result[name] = value
        }
        return result
    }

    mutating func string(_ node: Node?, _ path: String) -> String? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node else {
            fail(node, path, "expected text")
            return nil
        }
        return scalar.string
    }

    mutating func requiredString(_ fields: [String: Node], _ key: String, _ path: String, parent: Node) -> String? {
        guard let node = fields[key] else {
            fail(parent, "\(path).\(key)", "missing required field '\(key)'")
            return nil
        }
        return string(node, "\(path).\(key)")
    }

    mutating func bool(_ node: Node?, _ path: String) -> Bool? {
        guard let text = string(node, path) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            fail(node, path, "expected true or false, got '\(text)'")
            return nil
        }
    }

    /// A whole number in `range`, or nil (with a problem naming the field when it is there but not such a number).
    mutating func int(_ node: Node?, _ path: String, in range: ClosedRange<Int>) -> Int? {
        guard let text = string(node, path) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            fail(node, path, "expected a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
            return nil
        }
        return value
    }

    mutating func strings(_ node: Node?, _ path: String) -> [String] {
        guard let node else { return [] }
        if case .scalar(let scalar) = node { return [scalar.string] }
        guard case .sequence(let sequence) = node else {
            fail(node, path, "expected a list of text")
            return []
        }
        return sequence.enumerated().compactMap { index, item in string(item, "\(path)[\(index)]") }
    }

    mutating func sequence(_ node: Node?, _ path: String) -> [Node] {
        guard let node else { return [] }
        guard case .sequence(let sequence) = node else {
            fail(node, path, "expected a list")
            return []
        }
        return Array(sequence)
    }

    mutating func enumValue<E: RawRepresentable & CaseIterable>(_ node: Node?, _ path: String, as type: E.Type) -> E?
    where E.RawValue == String {
        guard let text = string(node, path) else { return nil }
        if let value = E(rawValue: text.lowercased()) { return value }
        let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
        fail(node, path, "'\(text)' is not allowed; use one of: \(allowed)")
        return nil
    }

    mutating func size(_ node: Node?, _ path: String) -> ByteSize? {
        guard let text = string(node, path) else { return nil }
        guard let size = ByteSize(text), size.bytes > 0 else {
            fail(node, path, "'\(text)' is not a size of at most 64PiB; write it like 512MiB, 8GiB or 4096 (bytes)")
            return nil
        }
        return size
    }
}

extension Node {
    /// A JSON value for the node, as written (scalars keep their YAML types).
    var jsonValue: JSONValue {
        switch self {
        case .scalar(let scalar):
            if let bool = scalar.string.yamlBool, scalar.style == .plain { return .bool(bool) }
            if scalar.style == .plain, let number = Double(scalar.string), !scalar.string.contains(":") {
                return .number(number)
            }
            if scalar.style == .plain, scalar.string == "null" || scalar.string == "~" { return .null }
            return .string(scalar.string)
        case .sequence(let sequence): return .array(sequence.map(\.jsonValue))
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping { object[key.scalar?.string ?? ""] = value.jsonValue }
            return .object(object)
        case .alias: return .null
        }
    }

    /// The machine's mapping laid over its profile's: mappings merge field by field, anything else replaces.
    func overlaid(on base: Node) -> Node {
        guard case .mapping(let top) = self, case .mapping(let bottom) = base else { return self }
        var pairs: [(Node, Node)] = []
        for (key, value) in bottom {
            if let override = top[key] {
                pairs.append((key, override.overlaid(on: value)))
            } else {
                pairs.append((key, value))
            }
        }
        for (key, value) in top where bottom[key] == nil { pairs.append((key, value)) }
        var merged = Node.Mapping(pairs)
        merged.mark = top.mark
        return .mapping(merged)
    }
}

extension String {
    fileprivate var yamlBool: Bool? {
        switch lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: return nil
        }
    }
}
