import Foundation
import GoldSpawn
import GoldTestSupport
import Testing

@testable import GoldNetboot

/// Answers for ldd, busybox and strip; gzip runs for real (the archive must decompress).
func fakeRunner(tools: [String: String], busybox: String) -> ScriptedRunner {
    ScriptedRunner(
        locate: { tools[$0] },
        script: { command in
            switch (command.program as NSString).lastPathComponent {
            case "ldd": return InvocationResult(exitCode: 1, stderr: "\tnot a dynamic executable\n")
            case "strip":
                try FileManager.default.copyItem(atPath: command.arguments[2], toPath: command.arguments[1])
                return InvocationResult(exitCode: 0)
            case _ where command.program == busybox:
                return InvocationResult(exitCode: 0, stdout: "bin/sh\nsbin/ifconfig\nusr/bin/[\nusr/sbin/fake-tool\n")
            default: return nil
            }
        })
}

/// A kernel directory shaped like Debian's unpacked linux-image package, with a modules.dep.
struct Fixture {
    let dir: TemporaryDirectory
    let runner: ScriptedRunner
    let agent: String

    init() throws {
        dir = try TemporaryDirectory()
        let modules = "kernel/lib/modules/6.1.0-test"
        try dir.write("kernel/boot/vmlinuz-6.1.0-test", "not really a kernel")
        try dir.write("kernel/boot/vmlinuz-6.1.0-old", "an older kernel")
        try dir.write("\(modules)/modules.dep", ModuleDependenciesTests.modulesDep)
        try dir.write("\(modules)/modules.builtin", ModuleDependenciesTests.builtin)
        try dir.write(
            "\(modules)/modules.alias", "alias fs-ext4 ext4\nalias virtio:d00000001v* virtio_net\nalias fs-xfs xfs\n")
        for line in ModuleDependenciesTests.modulesDep.split(separator: "\n") {
            let path = line.split(separator: ":")[0]
            try dir.write("\(modules)/\(path)", "module \(path)")
        }
        try dir.write("kernel/lib/modules/6.1.0-old/kernel/.keep", "")
        try dir.write("bin/busybox", "busybox", executable: true)
        try dir.write("bin/fake-tool", "tool", executable: true)
        try dir.write("gold-agent", "agent binary", executable: true)
        agent = dir.path + "/gold-agent"
        let gzip = try requireTool("gzip", package: "gzip")
        runner = fakeRunner(
            tools: [
                "gzip": gzip, "ldd": "/usr/bin/ldd", "strip": "/usr/bin/strip",
                "fake-tool": dir.path + "/bin/fake-tool",
            ],
            busybox: dir.path + "/bin/busybox")
    }

    func builder(output: String, tools: [HostTool] = [HostTool("fake-tool", package: "fake-package")]) -> NetbootBuilder
    {
        NetbootBuilder(
            kernelDir: dir.path + "/kernel", agentBinary: agent, outputDir: output, busybox: dir.path + "/bin/busybox",
            tools: tools, modules: ["virtio_net", "ext4", "af_packet"], sourceDateEpoch: 1_700_000_000, runner: runner)
    }
}

@Suite struct NetbootBuilderTests {
    func unpack(_ path: String) async throws -> [String: NewcReader.Entry] {
        let out = path + ".cpio"
        let result = try await SystemRunner().run(
            Invocation(
                try requireTool("gzip", package: "gzip"), ["-dc"], input: .file(path), output: .standardOutputTo(out),
                timeout: .seconds(60)))
        #expect(result.exitCode == 0)
        defer { try? FileManager.default.removeItem(atPath: out) }
        let entries = try NewcReader.parse(Array(try Data(contentsOf: URL(fileURLWithPath: out))))
        return Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func buildsTheInitramfsLayout() async throws {
        let fixture = try Fixture()
        let artifacts = try await fixture.builder(output: fixture.dir.path + "/out").build()
        #expect(artifacts.kernelVersion == "6.1.0-test")
        #expect(artifacts.initrdPath.hasSuffix("/initrd-\(artifacts.initrdSHA256).cpio.gz"))
        #expect(artifacts.kernelPath.hasSuffix("/vmlinuz-\(artifacts.kernelSHA256)"))
        #expect(try String(contentsOfFile: artifacts.kernelPath, encoding: .utf8) == "not really a kernel")
        let entries = try await unpack(artifacts.initrdPath)
        #expect(entries["init"]?.mode == 0o100755)
        #expect(entries["init"]?.text.contains("kver=\"6.1.0-test\"") == true)
        #expect(entries["dev/console"].map { ($0.mode, $0.rdevMajor, $0.rdevMinor) } ?? (0, 0, 0) == (0o020600, 5, 1))
        #expect(entries["bin"]?.text == "usr/bin" && entries["bin"]?.mode == 0o120777)
        #expect(entries["usr/bin/gold-agent"]?.text == "agent binary")
        #expect(entries["usr/bin/sh"]?.text == "/usr/bin/busybox")
        #expect(entries["usr/bin/["]?.text == "/usr/bin/busybox")
        #expect(entries["usr/bin/busybox"]?.text == "busybox")
        // The real tool wins over busybox's applet of the same name.
        let toolPath = String((fixture.dir.path + "/bin/fake-tool").dropFirst())
        #expect(entries[toolPath]?.text == "tool")
        #expect(entries["etc/gold/modules.order"]?.text == artifacts.modules.map { $0 + "\n" }.joined())
        #expect(artifacts.modules.last == "kernel/fs/ext4/ext4.ko" && artifacts.modules.count == 9)
        #expect(entries["usr/lib/modules/6.1.0-test/kernel/fs/ext4/ext4.ko"]?.text == "module kernel/fs/ext4/ext4.ko")
        #expect(
            entries["usr/lib/modules/6.1.0-test/modules.alias"]?.text
                == "alias fs-ext4 ext4\nalias virtio:d00000001v* virtio_net\n")
        #expect(entries.values.allSatisfy { $0.mtime == 1_700_000_000 })
    }

    @Test func sameInputsGiveSameBytesAndAreNotRebuilt() async throws {
        let fixture = try Fixture()
        let first = try await fixture.builder(output: fixture.dir.path + "/a").build()
        let second = try await fixture.builder(output: fixture.dir.path + "/b").build()
        #expect(first.initrdSHA256 == second.initrdSHA256)
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: first.initrdPath))
                == Data(contentsOf: URL(fileURLWithPath: second.initrdPath)))
        #expect(!first.cached && !second.cached)
        let gzipRuns = fixture.runner.programs.filter { $0 == "gzip" }.count
        let again = try await fixture.builder(output: fixture.dir.path + "/a").build()
        #expect(again.cached && again.initrdPath == first.initrdPath)
        #expect(fixture.runner.programs.filter { $0 == "gzip" }.count == gzipRuns)
        // A changed input is a new archive under a new name.
        try fixture.dir.write("gold-agent", "agent binary v2", executable: true)
        let changed = try await fixture.builder(output: fixture.dir.path + "/a").build()
        #expect(!changed.cached && changed.initrdSHA256 != first.initrdSHA256)
    }

    @Test func aMissingToolNamesItsDebianPackage() async throws {
        let fixture = try Fixture()
        let error = await #expect(throws: NetbootError.self) {
            try await fixture.builder(
                output: fixture.dir.path + "/out", tools: [HostTool("no-such-tool", package: "some-package")]
            ).build()
        }
        #expect(error?.code == .missingTool)
        #expect(error?.message.contains("apt-get install some-package") == true)
    }

    @Test func aMissingKernelOrAgentIsReported() async throws {
        let fixture = try Fixture()
        var builder = fixture.builder(output: fixture.dir.path + "/out")
        builder.kernelDir = fixture.dir.path + "/nothing"
        await #expect(throws: NetbootError.self) { try await builder.build() }
        builder = fixture.builder(output: fixture.dir.path + "/out")
        builder.agentBinary = fixture.dir.path + "/absent-agent"
        let error = await #expect(throws: NetbootError.self) { try await builder.build() }
        #expect(error?.message.contains("build-agent.sh") == true)
    }
}
