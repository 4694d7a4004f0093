import Foundation
import GoldSpawn
import Testing

@testable import GoldAgentKit

@Suite struct TortureTests {
    let output = """
        stress-ng: info:  [20912] dispatching hogs: 1 cpu, 1 vm, 1 io
        stress-ng: metrc: [20912] stressor       bogo ops real time  usr time  sys time   bogo ops/s     bogo ops/s
        stress-ng: metrc: [20912]                           (secs)    (secs)    (secs)   (real time) (usr+sys time)
        stress-ng: metrc: [20912] cpu                4462      3.00      2.14      0.22      1486.01        1892.26
        stress-ng: metrc: [20912] vm               159537      3.00      1.24      0.85     53151.69       76314.54
        stress-ng: metrc: [20912] io                14114      3.00      0.01      0.65      4704.46       21210.86
        stress-ng: info:  [20912] successful run completed in 3.00s
        """

    @Test func parsesStressNGMetrics() {
        let metrics = Torture.parseMetrics(output)
        #expect(metrics.map(\.stressor) == ["cpu", "vm", "io"])
        #expect(metrics[0].bogoOps == 4462 && metrics[0].bogoOpsPerSecond == 1486.01)
    }

    @Test func passesOnlyWithACleanKernelLog() {
        #expect(Torture.evaluate(exitCode: 0, output: output, kernelLogDuring: "").passed)
        let oops = Torture.evaluate(
            exitCode: 0, output: output,
            kernelLogDuring: "[  12.3] mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 4\n")
        #expect(!oops.passed)
        #expect(oops.summary.contains("Machine Check"))
        #expect(!Torture.evaluate(exitCode: 2, output: output, kernelLogDuring: "").passed)
        #expect(
            !Torture.evaluate(exitCode: 0, output: "stress-ng: fail: verification failed", kernelLogDuring: "").passed)
    }

    @Test func realStressNGShortRunPasses() async throws {
        let result = try await SystemRunner().run("stress-ng", Torture.arguments(seconds: 2), timeout: .seconds(60))
        let report = Torture.evaluate(exitCode: result.exitCode, output: result.output, kernelLogDuring: "")
        #expect(report.passed, "\(result.output)")
        #expect(report.metrics.count == 3)
    }
}

@Suite struct ServiceFinderTests {
    @Test func unitsByExecStart() {
        let show = """
            Id=hello.service
            ExecStart={ path=/usr/local/bin/hello ; argv[]=/usr/local/bin/hello --serve ; ignore_errors=no }

            Id=ssh.service
            ExecStart={ path=/usr/sbin/sshd ; argv[]=/usr/sbin/sshd -D ; ignore_errors=no }

            Id=hello-helper.service
            ExecStart={ path=/usr/local/bin/hello-helper ; argv[]=/usr/local/bin/hello-helper ; ignore_errors=no }
            """
        #expect(ServiceFinder.units(using: "/usr/local/bin/hello", showOutput: show) == ["hello.service"])
    }

    @Test func processesOfThisTestRunner() throws {
        let me = try FileManagerShim.exe()
        #expect(ServiceFinder.processes(using: me).contains(getpidShim()))
    }
}

enum FileManagerShim {
    static func exe() throws -> String { try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") }
}
func getpidShim() -> Int32 { ProcessInfo.processInfo.processIdentifier }
