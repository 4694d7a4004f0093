import Foundation

/// Who needs a requirement: a server role, the QEMU lab, or only the test suite.
public enum DoctorRole: String, CaseIterable, Sendable, Codable, Hashable, Comparable {
    case director, deploy, compile, lab, test

    public static func < (a: DoctorRole, b: DoctorRole) -> Bool { a.rank < b.rank }

    private var rank: Int {
        switch self {
        case .director: 0
        case .deploy: 1
        case .compile: 2
        case .lab: 3
        case .test: 4
        }
    }

    /// `director,deploy`, `all`: the roles a `--role` value names, or nil for an unknown one.
    public static func parse(_ text: String) -> Set<DoctorRole>? {
        var roles: Set<DoctorRole> = []
        for word in text.split(separator: ",") {
            if word == "all" {
                roles.formUnion(allCases)
                continue
            }
            guard let role = DoctorRole(rawValue: String(word)) else { return nil }
            roles.insert(role)
        }
        return roles.isEmpty ? nil : roles
    }
}

/// What the host is asked about. The real one looks at this machine; tests give a table.
public protocol HostProbe: Sendable {
    /// The program's absolute path on PATH (and /usr/sbin, /sbin), or nil.
    func locate(program: String) -> String?
    /// The paths matching `pattern` (`*` within the last component only), or [] when none exist.
    func paths(matching pattern: String) -> [String]
    /// Bytes free to an unprivileged writer on the file system holding `path` (its nearest existing ancestor).
    func freeBytes(at path: String) -> UInt64?
    var isRoot: Bool { get }
}

/// One requirement's result on this host.
public struct DoctorFinding: Sendable, Codable, Hashable {
    public enum Status: String, Sendable, Codable { case ok, missing, warning }
    public var status: Status
    /// What was checked: `program depmod`, `file /usr/share/OVMF/OVMF_CODE_4M.fd`, `free disk at /var/lib/gold`.
    public var check: String
    /// Where it was found, or what was seen.
    public var found: String?
    public var package: String?
    /// How to get it when no package provides it (`scripts/setup.sh fetches it`).
    public var fix: String?
    public var roles: [DoctorRole]
    public var purpose: String
}

/// The doctor's whole answer: every finding for the roles asked about, and what to install.
public struct DoctorReport: Sendable, Codable, Hashable {
    public var roles: [DoctorRole]
    public var findings: [DoctorFinding]

    public var missing: [DoctorFinding] { findings.filter { $0.status == .missing } }
    public var warnings: [DoctorFinding] { findings.filter { $0.status == .warning } }
    /// The Debian packages that would supply what is missing, sorted, each once.
    public var missingPackages: [String] { Array(Set(missing.compactMap(\.package))).sorted() }
    public var ok: Bool { missing.isEmpty }

    /// One message naming every missing thing and what provides it, or nil when nothing is missing.
    public var refusal: String? {
        guard !ok else { return nil }
        var text =
            "missing on this host for \(roles.map(\.rawValue).joined(separator: ", ")): "
            + missing.map { finding in
                finding.check + (finding.package.map { " (Debian package \($0))" } ?? "")
                    + (finding.fix.map { " (\($0))" } ?? "")
            }.joined(separator: "; ")
        if !missingPackages.isEmpty { text += ". Install: apt-get install " + missingPackages.joined(separator: " ") }
        if missing.contains(where: { $0.fix != nil }) || !missingPackages.isEmpty {
            text += " (scripts/setup.sh installs all of it)"
        }
        return text
    }
}

/// Checks the requirements of some roles on a host: pure, given the probe.
public enum Doctor {
    public static func examine(
        _ roles: Set<DoctorRole>, probe: any HostProbe, requirements: [Requirement] = Requirements.all
    )
        -> DoctorReport
    {
        var findings: [DoctorFinding] = []
        for requirement in requirements where !requirement.roles.isDisjoint(with: roles) {
            findings.append(finding(requirement, probe: probe))
        }
        return DoctorReport(roles: roles.sorted(), findings: findings)
    }

    static func finding(_ requirement: Requirement, probe: any HostProbe) -> DoctorFinding {
        var result = DoctorFinding(
            status: .ok, check: requirement.check.description, package: requirement.package, fix: requirement.fix,
            roles: requirement.roles.sorted(), purpose: requirement.purpose)
        let absent: DoctorFinding.Status = requirement.optional ? .warning : .missing
        switch requirement.check {
        case .program(let name):
            if let path = probe.locate(program: name) { result.found = path } else { result.status = absent }
        case .file(let pattern):
            if let path = probe.paths(matching: pattern).first { result.found = path } else { result.status = absent }
        case .freeDisk(let path, let gib):
            if let free = probe.freeBytes(at: path) {
                result.found = "\(free >> 30) GiB free"
                if free < UInt64(gib) << 30 { result.status = absent }
            } else {
                result.status = absent
                result.found = "cannot read the file system"
            }
        case .root:
            if !probe.isRoot {
                result.status = absent
                result.found = "running as uid \(geteuid())"
            }
        }
        return result
    }
}

/// This machine: PATH plus the sbin directories, the file system, the effective user.
public struct LocalHostProbe: HostProbe {
    public init() {}

    public func locate(program: String) -> String? {
        if program.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories =
            path.split(separator: ":").map(String.init) + ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        for directory in directories where !directory.isEmpty {
            let candidate = directory + "/" + program
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    public func paths(matching pattern: String) -> [String] {
        guard pattern.contains("*") else { return FileManager.default.fileExists(atPath: pattern) ? [pattern] : [] }
        let directory = (pattern as NSString).deletingLastPathComponent
        let name = (pattern as NSString).lastPathComponent
        let parts = name.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.filter { entry in
            guard let first = parts.first, let last = parts.last, entry.hasPrefix(first), entry.hasSuffix(last),
                entry.count >= first.count + last.count
            else { return false }
            return true
        }.sorted().map { directory + "/" + $0 }
    }

    public func freeBytes(at path: String) -> UInt64? {
        var directory = path
        while !FileManager.default.fileExists(atPath: directory), directory != "/" {
            directory = (directory as NSString).deletingLastPathComponent
            if directory.isEmpty { directory = "/" }
        }
        var stats = statvfs()
        guard statvfs(directory, &stats) == 0 else { return nil }
        return UInt64(stats.f_bavail).multipliedReportingOverflow(by: UInt64(stats.f_frsize)).partialValue
    }

    public var isRoot: Bool { geteuid() == 0 }
}
