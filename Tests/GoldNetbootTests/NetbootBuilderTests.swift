import Foundation
import Testing

@testable import GoldNetboot

/// Answers for ldd, busybox and strip; gzip runs for real (the archive must decompress).
final class FakeRunner: CommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var log: [String] = []
    let tools: [String: String]
    let busybox: String

    init(tools: [String: String], busybox: String) {
        self.tools = tools
        self.busybox = busybox
    }

    var calls: [String] { lock.withLock { log } }

    func which(_ tool: String) -> String? { tools[tool] }

    func run(_ executable: String, _ arguments: [String], stdinFile: String?, stdoutFile: String?) throws
        -> CommandResult
    {
        let name = (executable as NSString).lastPathComponent
        lock.withLock { log.append(name) }
        switch name {
        case "ldd": return CommandResult(status: 1, stderr: "\tnot a dynamic executable\n")
        case "strip":
            try FileManager.default.copyItem(atPath: arguments[2], toPath: arguments[1])
            return CommandResult(status: 0)
        case _ where executable == busybox:
            return CommandResult(status: 0, stdout: "bin/sh\nsbin/ifconfig\nusr/bin/[\nusr/sbin/fake-tool\n")
        default:
            return try ProcessCommandRunner().run(executable, arguments, stdinFile: stdinFile, stdoutFile: stdoutFile)
        }
    }
}

/// A kernel directory shaped like Debian's unpacked linux-image package, with a modules.dep.
struct Fixture {
    let dir: TemporaryDirectory
    let runner: FakeRunner
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
        runner = FakeRunner(
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
    func unpack(_ path: String) throws -> [String: NewcReader.Entry] {
        let out = path + ".cpio"
        let result = try ProcessCommandRunner().run(
            try requireTool("gzip", package: "gzip"), ["-dc"], stdinFile: path, stdoutFile: out)
        #expect(result.status == 0)
        defer { try? FileManager.default.removeItem(atPath: out) }
        let entries = try NewcReader.parse(Array(try Data(contentsOf: URL(fileURLWithPath: out))))
        return Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    @Test func buildsTheInitramfsLayout() throws {
        let fixture = try Fixture()
        let artifacts = try fixture.builder(output: fixture.dir.path + "/out").build()
        #expect(artifacts.kernelVersion == "6.1.0-test")
        #expect(artifacts.initrdPath.hasSuffix("/initrd-\(artifacts.initrdSHA256).cpio.gz"))
        #expect(artifacts.kernelPath.hasSuffix("/vmlinuz-\(artifacts.kernelSHA256)"))
        #expect(try String(contentsOfFile: artifacts.kernelPath, encoding: .utf8) == "not really a kernel")
        let entries = try unpack(artifacts.initrdPath)
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

    @Test func sameInputsGiveSameBytesAndAreNotRebuilt() throws {
        let fixture = try Fixture()
        let first = try fixture.builder(output: fixture.dir.path + "/a").build()
        let second = try fixture.builder(output: fixture.dir.path + "/b").build()
        #expect(first.initrdSHA256 == second.initrdSHA256)
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: first.initrdPath))
                == Data(contentsOf: URL(fileURLWithPath: second.initrdPath)))
        #expect(!first.cached && !second.cached)
        let gzipRuns = fixture.runner.calls.filter { $0 == "gzip" }.count
        let again = try fixture.builder(output: fixture.dir.path + "/a").build()
        #expect(again.cached && again.initrdPath == first.initrdPath)
        #expect(fixture.runner.calls.filter { $0 == "gzip" }.count == gzipRuns)
        // A changed input is a new archive under a new name.
        try fixture.dir.write("gold-agent", "agent binary v2", executable: true)
        let changed = try fixture.builder(output: fixture.dir.path + "/a").build()
        #expect(!changed.cached && changed.initrdSHA256 != first.initrdSHA256)
    }

    @Test func aMissingToolNamesItsDebianPackage() throws {
        let fixture = try Fixture()
        let error = #expect(throws: NetbootError.self) {
            try fixture.builder(
                output: fixture.dir.path + "/out", tools: [HostTool("no-such-tool", package: "some-package")]
            ).build()
        }
        #expect(error?.code == .missingTool)
        #expect(error?.message.contains("apt-get install some-package") == true)
    }

    @Test func aMissingKernelOrAgentIsReported() throws {
        let fixture = try Fixture()
        var builder = fixture.builder(output: fixture.dir.path + "/out")
        builder.kernelDir = fixture.dir.path + "/nothing"
        #expect(throws: NetbootError.self) { try builder.build() }
        builder = fixture.builder(output: fixture.dir.path + "/out")
        builder.agentBinary = fixture.dir.path + "/absent-agent"
        let error = #expect(throws: NetbootError.self) { try builder.build() }
        #expect(error?.message.contains("build-agent.sh") == true)
    }
}
