import Foundation
import GoldSpawn
import Testing

/// The real proof: `gold lab demo` brings up QEMU machines (one UEFI, one BIOS) on a private network and Gold
/// provisions each over its own DHCP, TFTP and HTTP: netboot, image written and verified, boot from disk, boot
/// success, checks, torture. Then a restore of one machine after damaging its disk, and `gold lab down` leaves
/// nothing behind. Needs root, QEMU and the statically linked agent (GOLD_AGENT_BINARY; scripts/test.sh builds it).
@Suite(.serialized) struct LabProvisionTests {
    static var agent: String {
        ProcessInfo.processInfo.environment["GOLD_AGENT_BINARY"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build-agent/debug/gold-agent").path
    }

    /// Runs `gold` with its output in a file: the lab's daemons it starts must not hold a pipe of ours open.
    func gold(_ arguments: [String], env: [String: String] = [:]) async throws -> (status: Int32, out: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("gold-e2e-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let environment = ProcessInfo.processInfo.environment.merging(env) { _, new in new }
        let result = try await Spawn.run("/bin/sh", ["-c", "exec \"$0\" \"$@\" >\(log) 2>&1", DurabilityTests.binary] + arguments,
            timeout: .seconds(3600), environment: environment)
        let out = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return (result.exitCode, out)
    }

    /// Aborts the machine's workflow that waits for a person, so the next one can start.
    func abortActive(_ machine: String, env: [String: String]) async throws -> Bool {
        let list = try await gold(["workflow", "list", "--machine", machine, "--active", "--json"], env: env)
        guard let data = list.out.data(using: .utf8), let workflows = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else { return false }
        for workflow in workflows {
            guard let id = workflow["id"] as? String else { continue }
            guard try await gold(["interventions", "abort", id], env: env).status == 0 else { return false }
        }
        return true
    }

    @Test func demoProvisionsEveryLabMachineThenRestoreAndDownLeaveNothing() async throws {
        #expect(getuid() == 0, "the lab needs root (network namespaces, taps)")
        #expect(FileManager.default.isExecutableFile(atPath: Self.agent), "no static agent at \(Self.agent): run scripts/build-agent.sh debug")
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("gold-lab-e2e-\(UUID().uuidString)").path
        defer {
            let cleanup = Cleanup(state: state, gold: DurabilityTests.binary)
            cleanup.run()
            try? FileManager.default.removeItem(atPath: state)
        }
        let demo = try await gold(["lab", "demo", "--state-dir", state, "--machines", "2", "--agent", Self.agent])
        #expect(demo.status == 0, "gold lab demo failed:\n\(demo.out.suffix(6000))")
        for machine in ["lab-uefi-01", "lab-bios-01"] {
            // The summary table: machine, state ready, workflow succeeded.
            #expect(demo.out.split(separator: "\n").contains { $0.hasPrefix(machine) && $0.contains("ready") && $0.contains("succeeded") },
                "\(machine) not ready:\n\(demo.out.suffix(3000))")
            #expect(demo.out.contains("\(machine): ✔ write the image to the local disk"))
            #expect(demo.out.contains("\(machine): ✔ torture test"))
        }
        // Firmware writes escape codes and stray bytes: decode leniently.
        let console = String(decoding: FileManager.default.contents(atPath: state + "/machines/lab-uefi-01/serial.log") ?? Data(), as: UTF8.self)
        #expect(console.contains(">>Start PXE over IPv4"), "the UEFI machine did not PXE boot")
        #expect(console.contains("gold-agent: checked in as lab-uefi-01"))

        // Restore: reboot request and ack, netboot, delta write, boot from disk, checks, torture.
        let env = ["GOLD_DIRECTOR": "http://10.77.255.1:8080", "GOLD_TOKEN_FILE": state + "/gold/admin.token"]
        let restore = try await gold(["restore", "lab-bios-01", "--watch"], env: env)
        #expect(restore.status == 0, "restore failed:\n\(restore.out.suffix(6000))")
        #expect(restore.out.contains("✔ write the image version (delta)"))
        #expect(restore.out.contains("unchanged"))

        // The demo ended with a kernel upgrade of lab-bios-01 to a kernel the compile role built.
        #expect(demo.out.contains("lab-bios-01: ✔ promote the new kernel to the default"), "\(demo.out.suffix(4000))")
        #expect(demo.out.contains("lab-bios-01 runs kernel 6.1.192-gold-lab (expected 6.1.192-gold-lab)"), "\(demo.out.suffix(4000))")

        // The new image version differs from the one before only in the kernel and GRUB's menu.
        let kernelDiff = try await gold(["image", "diff", "lab-bios-01"], env: env)
        #expect(kernelDiff.out.contains("added     /boot/vmlinuz-6.1.192-gold-lab"), "\(kernelDiff.out)")
        #expect(kernelDiff.out.contains("modified  /boot/grub/grub.cfg") && kernelDiff.out.contains(": 2 change(s)"), "\(kernelDiff.out)")

        // A software update that passes: hello 2 replaces hello 1, the old binary is backed up with its hash.
        try rewrite(state + "/src/hello/VERSION", "2\n")
        let update = try await gold(["update", "lab-bios-01", "--binary", "hello", "--watch"], env: env)
        #expect(update.status == 0, "update failed:\n\(update.out.suffix(6000))")
        #expect(update.out.contains("✔ back up the old binary and install the new one"))
        do { let got = try await answer("10.77.0.12", LabSoftwarePort); #expect(got == "hello 2", "hello on \("10.77.0.12") answered '\(got)'") }
        let updateDiff = try await gold(["image", "diff", "lab-bios-01"], env: env)
        #expect(updateDiff.out.contains("modified  /usr/local/bin/hello") && updateDiff.out.contains(": 1 change(s)"), "\(updateDiff.out)")
        let backups = try await gold(["machine", "backups", "lab-bios-01", "hello", "--json"], env: env)
        #expect(backups.status == 0 && backups.out.contains("/usr/local/bin/hello") && backups.out.contains("sha256"), "\(backups.out)")

        // A software update whose check fails: the backup goes back, the service runs hello 2 again.
        try rewrite(state + "/src/hello/VERSION", "3\n")
        try rewrite(state + "/src/hello/CHECK_EXIT", "1\n")
        let broken = try await gold(["update", "lab-bios-01", "--binary", "hello", "--watch"], env: env)
        #expect(broken.status != 0, "an update whose check fails must not succeed:\n\(broken.out.suffix(4000))")
        #expect(broken.out.contains("✔ restore the backed-up binary"), "\(broken.out.suffix(4000))")
        #expect(broken.out.contains("FAILED (this build is broken on purpose)"), "the intervention lacks the check's output:\n\(broken.out.suffix(4000))")
        do { let got = try await answer("10.77.0.12", LabSoftwarePort); #expect(got == "hello 2", "hello on \("10.77.0.12") answered '\(got)'") }

        // A rollout whose canary fails halts before touching the other machine; hello 3 is still broken.
        #expect(try await abortActive("lab-bios-01", env: env))
        let halted = try await gold(["rollout", "update", "--select", "role=lab", "--binary", "hello", "--canary", "1", "--batch", "1", "--watch"], env: env)
        #expect(halted.status != 0 && halted.out.contains("halted — canary lab-bios-01 failed"), "\(halted.out.suffix(3000))")
        #expect(halted.out.contains("lab-uefi-01") && halted.out.contains("not started"), "\(halted.out.suffix(3000))")
        do { let got = try await answer("10.77.0.11", LabSoftwarePort); #expect(got == "hello 1", "hello on \("10.77.0.11") answered '\(got)'") }
        #expect(try await abortActive("lab-bios-01", env: env))
        // Fixed: the canary passes, then the next batch.
        try rewrite(state + "/src/hello/VERSION", "4\n")
        try rewrite(state + "/src/hello/CHECK_EXIT", "0\n")
        let rollout = try await gold(["rollout", "update", "--select", "role=lab", "--binary", "hello", "--canary", "1", "--batch", "1", "--watch"], env: env)
        #expect(rollout.status == 0 && rollout.out.contains(": succeeded"), "\(rollout.out.suffix(3000))")
        #expect(rollout.out.contains("batch 2/2 lab-uefi-01: succeeded"), "\(rollout.out.suffix(3000))")
        for address in ["10.77.0.11", "10.77.0.12"] { let got = try await answer(address, LabSoftwarePort); #expect(got == "hello 4", "hello on \(address) answered '\(got)'") }

        // A kernel that panics (no ext4 for its root): the machine comes back on its old kernel by itself.
        let fleet = state + "/fleet.yaml"
        let text = try String(contentsOfFile: fleet, encoding: .utf8)
        try rewrite(fleet, text.replacingOccurrences(of: "- name: lab-bios-01\n    profile: lab-kernel\n", with: "- name: lab-bios-01\n    profile: lab-kernel-panics\n"))
        #expect(try await gold(["fleet", "apply", fleet], env: env).status == 0)
        let panics = try await gold(["kernel", "upgrade", "lab-bios-01", "--watch"], env: env)
        #expect(panics.status != 0, "a kernel that panics must not be promoted:\n\(panics.out.suffix(4000))")
        #expect(panics.out.contains("came back on kernel 6.1.192-gold-lab, not 6.1.192-gold-panics"), "\(panics.out.suffix(6000))")
        #expect(panics.out.contains("✔ remove the bad kernel's entry"), "\(panics.out.suffix(4000))")
        #expect(panics.out.contains("Kernel panic"), "the intervention lacks the panic:\n\(panics.out.suffix(6000))")

        let down = try await gold(["lab", "down", "--state-dir", state])
        #expect(down.status == 0, "\(down.out)")
        #expect(down.out.contains("namespace gold-lab"))
        let namespaces = (try? String(contentsOfFile: "/proc/net/dev", encoding: .utf8)) ?? ""
        #expect(!namespaces.contains("goldlab-h"), "the lab's veth is still there")
        #expect(!FileManager.default.fileExists(atPath: "/run/netns/gold-lab"), "the lab's namespace is still there")
    }
}

let LabSoftwarePort = 7070

func rewrite(_ path: String, _ text: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

/// The first line a TCP service at host:port sends (the lab's hello answers "hello VERSION"), or what went wrong.
func answer(_ host: String, _ port: Int) async throws -> String {
    // From inside the lab's namespace, on the machines' own segment, as a client on that network would ask.
    let result = try await Spawn.run("/usr/sbin/ip", ["netns", "exec", "gold-lab", "/usr/bin/python3", "-c", """
        import socket, sys
        try:
            s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
            print(s.makefile().readline().strip())
        except Exception as e:
            print("error: %r" % e)
        """, host, "\(port)"], timeout: .seconds(30))
    return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// `gold lab down` from a `defer`, which cannot await: a blocking run of its own.
struct Cleanup {
    let state: String
    let gold: String
    func run() {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec \"$0\" lab down --state-dir \"$1\" >/dev/null 2>&1", gold, state]
        try? process.run()
        process.waitUntilExit()
    }
}
