import Foundation
import GoldDeploy
import GoldLab
import GoldNetboot
import GoldSpawn
import Testing

@testable import GoldDoctor
@testable import GoldImage

/// A host described by a table.
struct TableProbe: HostProbe {
    var programs: [String: String] = [:]
    var files: Set<String> = []
    var free: UInt64? = 100 << 30
    var isRoot = true

    func locate(program: String) -> String? { programs[program] }
    func paths(matching pattern: String) -> [String] {
        guard let star = pattern.firstIndex(of: "*") else { return files.contains(pattern) ? [pattern] : [] }
        let prefix = pattern[..<star]
        let suffix = pattern[pattern.index(after: star)...]
        return files.filter { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) }.sorted()
    }
    func freeBytes(at path: String) -> UInt64? { free }

    /// Everything in the table present.
    static var complete: TableProbe {
        var probe = TableProbe()
        for requirement in Requirements.all {
            switch requirement.check {
            case .program(let name): probe.programs[name] = name.hasPrefix("/") ? name : "/usr/bin/" + name
            case .file(let path): probe.files.insert(path.replacingOccurrences(of: "*", with: "6.1.0-1-amd64"))
            case .freeDisk, .root: break
            }
        }
        return probe
    }
}

@Suite struct DoctorTests {
    @Test func aCompleteHostHasNothingMissing() {
        let report = Doctor.examine(Set(DoctorRole.allCases), probe: TableProbe.complete)
        #expect(report.ok)
        #expect(report.refusal == nil)
        #expect(report.findings.count == Requirements.all.count)
        #expect(report.findings.allSatisfy { $0.status == .ok })
    }

    @Test func aMissingProgramNamesItsPackageOnce() throws {
        var probe = TableProbe.complete
        probe.programs["depmod"] = nil
        probe.programs["qemu-system-x86_64"] = nil
        probe.files.remove("/usr/share/OVMF/OVMF_CODE_4M.fd")
        probe.files.remove("/usr/share/OVMF/OVMF_VARS_4M.fd")
        let report = Doctor.examine([.lab], probe: probe)
        #expect(report.missingPackages == ["kmod", "ovmf", "qemu-system-x86"])
        let refusal = try #require(report.refusal)
        #expect(refusal.contains("program depmod (Debian package kmod)"))
        #expect(refusal.contains("apt-get install kmod ovmf qemu-system-x86"))
        // The director's role does not need the lab's things.
        #expect(Doctor.examine([.director], probe: probe).ok)
    }

    @Test func optionalThingsWarnAndDoNotRefuse() {
        var probe = TableProbe.complete
        probe.programs["ccache"] = nil
        probe.programs["ipmitool"] = nil
        let report = Doctor.examine([.compile, .director], probe: probe)
        #expect(report.ok)
        #expect(Set(report.warnings.map(\.check)) == ["program ccache", "program ipmitool"])
    }

    @Test func theLabNeedsRootAndDisk() {
        var probe = TableProbe.complete
        probe.isRoot = false
        probe.free = 1 << 30
        let report = Doctor.examine([.lab], probe: probe)
        #expect(Set(report.missing.map(\.check)) == ["root", "12 GiB free at /var/lib/gold"])
        #expect(report.missing.first { $0.check == "root" }?.found?.hasPrefix("running as uid") == true)
    }

    @Test func theNetbootKernelIsFoundByPattern() {
        var probe = TableProbe.complete
        #expect(
            Doctor.examine([.lab], probe: probe).findings.first { $0.check.contains("vmlinuz") }?.found
                == "/var/cache/gold/kernel/boot/vmlinuz-6.1.0-1-amd64")
        probe.files = probe.files.filter { !$0.contains("vmlinuz") }
        let missing = Doctor.examine([.lab], probe: probe).missing
        #expect(missing.map(\.fix) == ["scripts/setup.sh fetches Debian's linux-image-amd64 there"])
    }

    @Test(
        arguments: [("all", Set(DoctorRole.allCases)), ("lab", [.lab]), ("director,compile", [.director, .compile])]
            as [(String, Set<DoctorRole>)])
    func roles(text: String, roles: Set<DoctorRole>) {
        #expect(DoctorRole.parse(text) == roles)
    }

    @Test func unknownRolesAreRefused() {
        #expect(DoctorRole.parse("everything") == nil)
        #expect(DoctorRole.parse("") == nil)
        #expect(DoctorRole.parse("lab,bogus") == nil)
    }

    /// The package list setup.sh installs is exactly the table's: setup.sh reads Requirements.swift with sed.
    @Test func setupInstallsExactlyTheTablesPackages() async throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        // The sed line of scripts/setup.sh itself, run by sh.
        let setup = try String(contentsOfFile: repo + "/scripts/setup.sh", encoding: .utf8)
        let line = try #require(setup.split(separator: "\n").first { $0.hasPrefix("PACKAGES=$(sed -n ") })
        let result = try await Spawn.run(
            "/bin/sh",
            [
                "-c", "REQUIREMENTS=\"$1\"; " + line + "; printf '%s\\n' $PACKAGES", "sh",
                repo + "/Sources/GoldDoctor/Requirements.swift",
            ], timeout: .seconds(60))
        #expect(result.exitCode == 0)
        let fromSetup = Set(result.output.split(separator: "\n").map(String.init))
        #expect(fromSetup == Set(Requirements.all.compactMap(\.package)))
        #expect(fromSetup.contains("kmod"))
    }

    /// The other lists in the code (for their own error messages) name the same packages as the table.
    @Test func theModulesListsAgreeWithTheTable() {
        func package(ofProgram name: String) -> String? {
            Requirements.all.first { if case .program(name) = $0.check { true } else { false } }?.package
        }
        func package(ofFile path: String) -> String? {
            Requirements.all.first { if case .file(path) = $0.check { true } else { false } }?.package
        }
        for tool in HostTool.workflowTools {
            #expect(package(ofProgram: tool.name) == tool.debianPackage, "netboot tool \(tool.name)")
        }
        // Essential packages (always installed) need no entry.
        let essential: Set<String> = ["coreutils", "findutils", "tar"]
        for (program, debian) in ToolPackage.packages where !essential.contains(debian) {
            #expect(package(ofProgram: program) == debian, "image tool \(program)")
        }
        for source in BootFiles.sources {
            #expect(package(ofFile: source.path) == source.package, "boot file \(source.name)")
        }
        for requirement in HostRequirements.needed(for: [.uefi, .bios]) {
            let found = requirement.isProgram ? package(ofProgram: requirement.path) : package(ofFile: requirement.path)
            #expect(found == requirement.debianPackage, "lab requirement \(requirement.what)")
        }
    }
}
