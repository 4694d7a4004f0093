/// Something Gold calls or reads on its host, who needs it, and where it comes from.
public struct Requirement: Sendable, Hashable {
    public enum Check: Sendable, Hashable, CustomStringConvertible {
        /// A program on PATH (or in /usr/sbin, /sbin).
        case program(String)
        /// A file; `*` in the last component matches any run of characters.
        case file(String)
        /// At least this many GiB free on the file system holding the path.
        case freeDisk(String, gib: Int)
        /// Running as root (network namespaces, bridges, taps, loop-free image building as root-owned files).
        case root

        public var description: String {
            switch self {
            case .program(let name): "program \(name)"
            case .file(let path): "file \(path)"
            case .freeDisk(let path, let gib): "\(gib) GiB free at \(path)"
            case .root: "root"
            }
        }
    }

    public var check: Check
    /// The Debian 12 package that provides it; `scripts/setup.sh` installs every package named in `Requirements.all`.
    public var package: String?
    /// How to get it when no package does.
    public var fix: String?
    public var roles: Set<DoctorRole>
    public var purpose: String
    /// Only some setups need it (a power driver, a cache): reported, but it does not stop `gold serve`.
    public var optional: Bool

    public init(
        _ check: Check, package: String? = nil, fix: String? = nil, for roles: Set<DoctorRole>, optional: Bool = false,
        _ purpose: String
    ) {
        self.check = check
        self.package = package
        self.fix = fix
        self.roles = roles
        self.purpose = purpose
        self.optional = optional
    }

    /// `.program("depmod", package: "kmod", for: [.deploy], "…")`: one line per requirement in the table.
    public static func program(
        _ name: String, package: String, for roles: Set<DoctorRole>, optional: Bool = false, _ purpose: String
    ) -> Requirement {
        Requirement(.program(name), package: package, for: roles, optional: optional, purpose)
    }

    public static func file(
        _ path: String, package: String, for roles: Set<DoctorRole>, optional: Bool = false, _ purpose: String
    ) -> Requirement {
        Requirement(.file(path), package: package, for: roles, optional: optional, purpose)
    }
}
