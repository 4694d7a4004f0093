import Yams

/// Reads a fleet file: every problem is collected with its file, line and field, and none is applied.
public enum FleetParser {
    static let machineFields = [
        "name", "profile", "role", "macs", "boot", "cpu", "disks", "network", "users", "services", "kernel",
        "binaries", "checks", "power", "deadlines",
    ]
    static let profileFields = machineFields.filter { !["name", "profile", "macs"].contains($0) }

    /// A kernel spec written as the fleet file's `kernel:` mapping (`{source: …, base: …, fragments: […], localversion: …}`),
    /// parsed and validated; errors name `field` and the part of it that is wrong.
    public static func parseKernel(yaml: String, field: String = "kernel") throws(FleetValidationError) -> KernelSpec {
        var reader = YAMLReader(file: field)
        let root: Node?
        try YAMLBudget.standard.check(yaml, file: field)
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw FleetValidationError(problems: [
                GoldError(.invalidInput, "not valid YAML: \(yamlMessage(error))", at: field)
            ])
        }
        guard let root else {
            throw FleetValidationError(problems: [
                GoldError(
                    .invalidInput, "empty; write {source: debian:linux-source-6.1, base: tinyconfig, fragments: [...]}",
                    at: field)
            ])
        }
        let kernel = MachineDecoder.kernel(root, field, &reader)
        guard reader.problems.isEmpty, let kernel else { throw FleetValidationError(problems: reader.problems) }
        let problems = FleetValidator.kernelProblems(kernel).map {
            GoldError(.invalidInput, $0.1, at: "\(field).\($0.0)")
        }
        guard problems.isEmpty else { throw FleetValidationError(problems: problems) }
        return kernel
    }

    /// Parses and validates `yaml`, naming `file` in every error.
    public static func parse(yaml: String, file: String = "fleet.yaml") throws(FleetValidationError) -> Fleet {
        var reader = YAMLReader(file: file)
        let root: Node?
        try YAMLBudget.standard.check(yaml, file: file)
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw FleetValidationError(problems: [
                GoldError(.invalidInput, "not valid YAML: \(yamlMessage(error))", at: file)
            ])
        }
        guard let root, let top = reader.mapping(root, "fleet", allowed: ["profiles", "machines"]) else {
            if reader.problems.isEmpty {
                reader.fail(nil, "fleet", "the file is empty; it needs 'machines' (and optionally 'profiles')")
            }
            throw FleetValidationError(problems: reader.problems)
        }

        var profiles: [ProfileSpec] = []
        var profileNodes: [String: Node] = [:]
        if let node = top["profiles"] {
            if case .mapping(let mapping) = node {
                for (key, value) in mapping {
                    guard let name = reader.string(key, "profiles"), !name.isEmpty else { continue }
                    let path = "profiles.\(name)"
                    if !FleetValidator.isValidName(name) {
                        reader.fail(key, path, "profile name '\(name)' must be lowercase letters, digits and '-'")
                    }
                    _ = reader.mapping(value, path, allowed: profileFields)
                    profileNodes[name] = value
                    profiles.append(ProfileSpec(name: name, settings: value.jsonValue))
                }
            } else {
                reader.fail(node, "profiles", "expected a mapping of profile names to settings")
            }
        }

        var machines: [MachineSpec] = []
        for (index, node) in reader.sequence(top["machines"], "machines").enumerated() {
            var path = "machines[\(index)]"
            if let name = node.mapping?["name"]?.scalar?.string { path = "machines[\(name)]" }
            var merged = node
            if let profileName = node.mapping?["profile"]?.scalar?.string {
                if let profile = profileNodes[profileName] {
                    merged = node.overlaid(on: profile)
                } else {
                    let known = profileNodes.keys.sorted().joined(separator: ", ")
                    reader.fail(
                        node.mapping?["profile"], "\(path).profile",
                        "unknown profile '\(profileName)'; defined: \(known.isEmpty ? "none" : known)")
                }
            }
            if let machine = MachineDecoder.decode(merged, path, &reader) { machines.append(machine) }
        }
        let fleet = Fleet(profiles: profiles.sorted { $0.name < $1.name }, machines: machines)
        var problems = reader.problems
        problems += FleetValidator.validate(fleet, file: file, lines: lineIndex(top["machines"]))
        guard problems.isEmpty else { throw FleetValidationError(problems: problems) }
        return fleet
    }

    /// The line each machine starts on, by name, so cross-machine problems can point at it.
    private static func lineIndex(_ machines: Node?) -> [String: Int] {
        var lines: [String: Int] = [:]
        for node in machines?.sequence ?? [] {
            if let name = node.mapping?["name"]?.scalar?.string, let line = node.mark?.line, lines[name] == nil {
                lines[name] = line
            }
        }
        return lines
    }

    private static func yamlMessage(_ error: any Error) -> String {
        if let error = error as? YamlError {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                .composer(_, let problem, let mark, _):
                return "\(problem) at line \(mark.line), column \(mark.column)"
            default: break
            }
        }
        return "\(error)"
    }
}
