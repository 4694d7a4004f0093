import ArgumentParser
import Foundation
import GoldDoctor

extension Gold {
    struct Doctor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check this host for every program, file and property Gold's roles need, and name the packages to install.",
            discussion: """
                Roles: director, deploy, compile, lab (the QEMU lab), test (the test suite), or all; comma-separated. \
                Exits 1 when something a role requires is missing; optional things (a power driver, ccache, disk \
                headroom) are warnings. scripts/setup.sh installs every package this list names.
                """)
        @Option(
            help: ArgumentHelp(
                "The roles to check: director, deploy, compile, lab, test or all (comma-separated).", valueName: "roles"
            ))
        var role = "all"
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard DoctorRole.parse(role) != nil else {
                throw ValidationError(
                    "--role '\(role)' is not a role; use director, deploy, compile, lab, test or all (comma-separated)")
            }
        }

        func run() async throws {
            let report = GoldDoctor.Doctor.examine(
                DoctorRole.parse(role) ?? Set(DoctorRole.allCases), probe: LocalHostProbe())
            if output.json {
                try printJSON(report)
            } else {
                print(DoctorView.text(report))
            }
            if !report.ok { throw ExitCode(1) }
        }
    }
}

enum DoctorView {
    static func text(_ report: DoctorReport) -> String {
        let rows = report.findings.map { finding -> [String] in
            let mark =
                switch finding.status {
                case .ok: "ok"
                case .missing: "MISSING"
                case .warning: "warning"
                }
            let source =
                finding.status == .ok
                ? (finding.found ?? "") : (finding.package.map { "apt-get install \($0)" } ?? finding.fix ?? "")
            return [mark, finding.roles.map(\.rawValue).joined(separator: ","), finding.check, source, finding.purpose]
        }
        var text = table(["STATUS", "ROLES", "CHECK", "FOUND / FIX", "FOR"], rows)
        let roles = report.roles.map(\.rawValue).joined(separator: ", ")
        if let refusal = report.refusal {
            text += "\n\n" + refusal
        } else {
            text += "\n\nnothing missing for \(roles)"
        }
        if !report.warnings.isEmpty {
            text +=
                "\n\(plural(report.warnings.count, "warning")): "
                + report.warnings.map { $0.check + ($0.found.map { " (\($0))" } ?? "") }.joined(separator: "; ")
        }
        return text
    }
}
