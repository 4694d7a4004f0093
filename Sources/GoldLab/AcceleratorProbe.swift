import Foundation
import GoldSpawn

/// Decides between KVM and TCG by trying KVM for real.
///
/// `/dev/kvm` existing proves little: on some hosts (a paravirtual KVM) `-accel kvm -cpu host` aborts with
/// "failed to set MSR 0x10a" and other CPU models crawl. The probe boots SeaBIOS with `-accel kvm -cpu host` for a
/// moment; KVM is used only if QEMU is still running and SeaBIOS has printed its banner.
public enum AcceleratorProbe {
    /// The result and why.
    public struct Result: Sendable, Equatable {
        public var accelerator: Accelerator
        public var reason: String
    }

    public static func probe(runner: any ProgramRunner, scratchDirectory: String) async -> Result {
        guard FileManager.default.isReadableFile(atPath: "/dev/kvm") else {
            return Result(accelerator: .tcg, reason: "/dev/kvm is absent or unreadable")
        }
        let serial = scratchDirectory + "/kvm-probe.serial"
        let sercon = scratchDirectory + "/sercon-port.bin"
        try? FileManager.default.removeItem(atPath: serial)
        let args = [
            "-accel", "kvm", "-cpu", "host", "-machine", "pc", "-m", "64", "-nodefaults", "-display", "none",
            "-no-reboot", "-serial", "file:\(serial)", "-fw_cfg", "name=etc/sercon-port,file=\(sercon)",
        ]
        let result: InvocationResult
        do {
            try LabMachine.writeSerconPort(to: sercon)
            result = try await runner.run("qemu-system-x86_64", args, environment: [:], timeout: .seconds(3))
        } catch {
            return Result(accelerator: .tcg, reason: "KVM probe could not run: \(error)")
        }
        let printed = (try? String(contentsOfFile: serial, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: serial)
        if result.timedOut && printed.contains("SeaBIOS") {
            return Result(accelerator: .kvm, reason: "SeaBIOS ran under -accel kvm -cpu host")
        }
        let why = result.stderr.split(whereSeparator: \.isNewline).first { $0.contains("error") || $0.contains("fail") }
        return Result(
            accelerator: .tcg,
            reason: "KVM unusable: "
                + (why.map(String.init) ?? (result.timedOut ? "no SeaBIOS output" : result.summary)))
    }
}
