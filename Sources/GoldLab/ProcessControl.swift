import Foundation

/// Ends processes the lab started, after checking the pid still belongs to them.
enum ProcessControl {
    enum Outcome { case terminated, notRunning, notOurs, survived }

    /// SIGTERM, up to 5 s, then SIGKILL — only if `/proc/PID/cmdline` still mentions `marker` (pids are reused).
    static func terminate(pid: Int32, expecting marker: String) async -> Outcome {
        guard let cmdline = commandLine(pid) else { return .notRunning }
        guard cmdline.contains(marker) else { return .notOurs }
        kill(pid, SIGTERM)
        if await waitGone(pid, seconds: 5) { return .terminated }
        kill(pid, SIGKILL)
        return await waitGone(pid, seconds: 5) ? .terminated : .survived
    }

    static func isRunning(_ pid: Int32) -> Bool { commandLine(pid) != nil }

    /// The process's arguments joined by spaces, or nil if it is gone (or a zombie).
    static func commandLine(_ pid: Int32) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }

    private static func waitGone(_ pid: Int32, seconds: Int) async -> Bool {
        for _ in 0..<(seconds * 20) {
            if !isRunning(pid) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return !isRunning(pid)
    }
}
