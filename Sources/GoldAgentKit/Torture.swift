import Foundation

/// stress-ng over CPU, memory and I/O with `--verify`, and the kernel log scanned for oopses and machine checks.
public enum Torture {
    public struct Metric: Codable, Hashable, Sendable {
        public var stressor: String
        public var bogoOps: Double
        public var bogoOpsPerSecond: Double
    }

    public struct Report: Codable, Hashable, Sendable {
        public var passed: Bool
        public var metrics: [Metric]
        /// Kernel log lines that appeared during the run and speak of trouble.
        public var kernelProblems: [String]
        public var summary: String
    }

    public static func arguments(seconds: Int) -> [String] {
        [
            "--cpu", "1", "--vm", "1", "--vm-bytes", "64M", "--io", "1", "--verify", "--timeout", "\(seconds)s",
            "--metrics-brief",
        ]
    }

    /// The `metrc:` rows of stress-ng's `--metrics-brief` output.
    public static func parseMetrics(_ output: String) -> [Metric] {
        output.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "] "), line.contains("metrc:") else { return nil }
            let fields = line[range.upperBound...].split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, let ops = Double(fields[1]), let perSecond = Double(fields[5]) else { return nil }
            return Metric(stressor: String(fields[0]), bogoOps: ops, bogoOpsPerSecond: perSecond)
        }
    }

    static let trouble = [
        "Oops", "BUG:", "Kernel panic", "Machine check", "mce:", "MCE", "Hardware Error", "EDAC", "I/O error",
        "soft lockup",
        "hard LOCKUP", "Call Trace",
    ]

    /// Lines of the kernel log that name trouble.
    public static func kernelProblems(_ log: String) -> [String] {
        log.split(separator: "\n").filter { line in trouble.contains { line.contains($0) } }.map(String.init)
    }

    public static func evaluate(exitCode: Int32, output: String, kernelLogDuring: String) -> Report {
        let metrics = parseMetrics(output)
        let problems = kernelProblems(kernelLogDuring)
        let passed =
            exitCode == 0 && output.contains("successful run completed") && problems.isEmpty && !metrics.isEmpty
        var summary = passed ? "stress-ng passed" : "stress-ng failed (exit \(exitCode))"
        summary += ": " + metrics.map { "\($0.stressor) \(Int($0.bogoOpsPerSecond)) ops/s" }.joined(separator: ", ")
        if !problems.isEmpty { summary += "; kernel: \(problems.prefix(3).joined(separator: " | "))" }
        return Report(passed: passed, metrics: metrics, kernelProblems: problems, summary: summary)
    }
}
