internal import CYaml

/// Limits a YAML document must keep before anything builds a tree from it: its size, how deeply it nests, and how many
/// nodes it stands for once every alias is expanded (a 440-byte file of nested aliases once stood for billions).
///
/// Checked on libyaml's event stream in one pass, in time and memory linear in the document: each anchor's expanded
/// size is remembered, so an alias costs what its anchor cost without being walked again.
public struct YAMLBudget: Sendable, Hashable {
    /// Bytes of the document.
    public var maxBytes: Int
    /// Collections inside collections.
    public var maxDepth: Int
    /// Nodes after expanding every alias (a scalar, a sequence and a mapping count one each, plus their contents).
    public var maxExpandedNodes: Int

    public init(maxBytes: Int = 4 << 20, maxDepth: Int = 64, maxExpandedNodes: Int = 1_000_000) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxExpandedNodes = maxExpandedNodes
    }

    /// Fleet files and gold.yaml.
    public static let standard = YAMLBudget()

    /// Throws a problem naming the limit the document breaks; returns quietly for a document within every limit (or one
    /// libyaml cannot parse: the real parse then reports where).
    public func check(_ yaml: String, file: String) throws(FleetValidationError) {
        let bytes = Array(yaml.utf8)
        guard bytes.count <= maxBytes else {
            throw FleetValidationError(problems: [
                GoldError(
                    .invalidInput,
                    "the file is \(bytes.count) bytes; at most \(maxBytes) are accepted", at: file)
            ])
        }
        if let problem = scan(bytes) {
            throw FleetValidationError(problems: [
                GoldError(.invalidInput, problem.message, at: "\(file):\(problem.line)")
            ])
        }
    }

    private func scan(_ bytes: [UInt8]) -> (message: String, line: Int)? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        return bytes.withUnsafeBufferPointer { buffer -> (message: String, line: Int)? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            // Expanded sizes and depths of the open collections (innermost last) and of every anchor seen. The depth is
            // the expanded one: an alias nests its anchor's whole depth where it stands (chained anchors add up).
            var open: [(size: Int, depth: Int)] = []
            var anchors: [String: (size: Int, depth: Int)] = [:]
            var openAnchors: [String?] = []
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                var finished: (size: Int, depth: Int, anchor: String?)?
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_SCALAR_EVENT:
                    finished = (1, 0, Self.string(event.data.scalar.anchor))
                case YAML_ALIAS_EVENT:
                    guard let name = Self.string(event.data.alias.anchor), let anchor = anchors[name] else {
                        return nil
                    }
                    finished = (anchor.size, anchor.depth, nil)
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    guard open.count < maxDepth else {
                        return ("the document nests deeper than \(maxDepth) levels", line)
                    }
                    open.append((1, 0))
                    openAnchors.append(
                        event.type == YAML_SEQUENCE_START_EVENT
                            ? Self.string(event.data.sequence_start.anchor)
                            : Self.string(event.data.mapping_start.anchor))
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    guard let collection = open.popLast(), let anchor = openAnchors.popLast() else { return nil }
                    finished = (collection.size, collection.depth + 1, anchor)
                default:
                    break
                }
                if let node = finished {
                    if let anchor = node.anchor { anchors[anchor] = (node.size, node.depth) }
                    guard open.count + node.depth <= maxDepth else {
                        return ("with its aliases expanded the document nests deeper than \(maxDepth) levels", line)
                    }
                    if open.isEmpty {
                        guard node.size <= maxExpandedNodes else { return expansion(line) }
                    } else {
                        let (sum, overflow) = open[open.count - 1].size.addingReportingOverflow(node.size)
                        guard !overflow, sum <= maxExpandedNodes else { return expansion(line) }
                        open[open.count - 1].size = sum
                        open[open.count - 1].depth = max(open[open.count - 1].depth, node.depth)
                    }
                }
            }
        }
    }

    private func expansion(_ line: Int) -> (message: String, line: Int) {
        (
            "with its aliases expanded the document stands for more than \(maxExpandedNodes) nodes; use profiles instead of nested aliases",
            line
        )
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
    }
}
