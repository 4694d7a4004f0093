import GoldCore

/// A kernel `.config` read into option values, and the check that every requested option survived
/// `make olddefconfig` (Kconfig silently drops an option whose dependencies are off, or that does not exist).
public struct KernelConfig: Hashable, Sendable {
    /// Option name to value (`y`, `m`, a quoted string, a number); `# CONFIG_X is not set` reads as `n`.
    public var values: [String: String]

    public init(values: [String: String]) { self.values = values }

    /// Parses `.config` text; comments other than `is not set` lines and blank lines are ignored.
    public init(parsing text: String) {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if let fragment = KernelFragment(String(line)) { values[fragment.option] = fragment.value }
        }
        self.values = values
    }

    /// An option that did not come out as requested.
    public struct Mismatch: Hashable, Sendable, CustomStringConvertible {
        public var option: String
        public var requested: String
        /// Nil when the option is absent from the final config (unknown, or hidden by a dependency).
        public var actual: String?
        public var description: String {
            "\(option)=\(requested) (final: \(actual.map { "\(option)=\($0)" } ?? "absent"))"
        }
    }

    /// The requested options the config does not hold. Asking for `n` is met by an absent option.
    public func mismatches(_ requested: [KernelFragment]) -> [Mismatch] {
        requested.compactMap { want in
            let actual = values[want.option]
            if actual == want.value || (want.value == "n" && actual == nil) { return nil }
            return Mismatch(option: want.option, requested: want.value, actual: actual)
        }.sorted { $0.option < $1.option }
    }

    /// A fragment as a config line: `CONFIG_X=y` or `# CONFIG_X is not set`.
    public static func line(_ fragment: KernelFragment) -> String {
        fragment.value == "n" ? "# \(fragment.option) is not set" : "\(fragment.option)=\(fragment.value)"
    }

    /// The fragment file handed to `merge_config.sh`.
    public static func fragmentFile(_ fragments: [KernelFragment]) -> String {
        fragments.map(line).joined(separator: "\n") + "\n"
    }
}
