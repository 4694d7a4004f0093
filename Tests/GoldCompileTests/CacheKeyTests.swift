import Foundation
import GoldCore
import GoldSpawn
import Testing

@testable import GoldCompile

@Suite struct CacheKeyTests {
    static let source = SourceInput(layout: .tarball, path: "/usr/src/linux-source-6.1.tar.xz", identity: "sha256:aa")
    static let kernel = KernelInputs(
        sourceName: "debian:linux-source-6.1", source: source, base: "tinyconfig", baseIdentity: "tinyconfig",
        fragments: ["CONFIG_64BIT=y", "CONFIG_PRINTK=y"], localVersion: "-gold-lab",
        toolchain: "gcc (Debian 12.2.0-14) 12.2.0")
    static let binary = BinaryInputs(
        name: "hello", sourceName: "dir:/src/hello",
        source: SourceInput(layout: .directory, path: "/src/hello", identity: "sha256:bb"),
        commands: ["make", "make install"], cflags: "-O2 -march=x86-64", march: "x86-64", toolchain: "gcc 12")

    @Test func stableAcrossRuns() {
        // A golden value: a change to the key's encoding must be deliberate (it rebuilds every artifact).
        #expect(CacheKey(.kernel(Self.kernel)) == CacheKey(.kernel(Self.kernel)))
        #expect(
            CacheKey(.kernel(Self.kernel)).hex == "bcc8921f496eb11ac2ce9ca440e020b5c8c3c1bcccd650c0545d6d390bb8433a")
        #expect(CacheKey(.binary(Self.binary)).hex.count == 64)
    }

    static let kernelChanges: [(String, @Sendable (inout KernelInputs) -> Void)] = [
        ("source", { $0.source.identity = "sha256:ab" }),
        ("base", { $0.baseIdentity = "defconfig" }),
        ("fragment value", { $0.fragments = ["CONFIG_64BIT=y", "CONFIG_PRINTK=n"] }),
        ("fragment added", { $0.fragments.append("CONFIG_TTY=y") }),
        ("localversion", { $0.localVersion = "-other" }),
        ("localversion removed", { $0.localVersion = nil }),
        ("toolchain", { $0.toolchain = "gcc (Debian 12.2.0-15) 12.2.0" }),
    ]

    @Test(arguments: kernelChanges.indices) func kernelKeySensitive(_ index: Int) {
        var changed = Self.kernel
        Self.kernelChanges[index].1(&changed)
        #expect(CacheKey(.kernel(changed)) != CacheKey(.kernel(Self.kernel)), "\(Self.kernelChanges[index].0)")
    }

    static let binaryChanges: [(String, @Sendable (inout BinaryInputs) -> Void)] = [
        ("source", { $0.source.identity = "sha256:bc" }),
        ("command", { $0.commands = ["make -B", "make install"] }),
        ("command order", { $0.commands = ["make install", "make"] }),
        ("cflags", { $0.cflags = "-O2 -march=x86-64-v3" }),
        ("march", { $0.march = "x86-64-v3" }),
        ("prefix", { $0.prefix = "/opt/gold" }),
        ("cc", { $0.cc = "clang" }),
        ("toolchain", { $0.toolchain = "gcc 13" }),
        ("name", { $0.name = "hello2" }),
    ]

    @Test(arguments: binaryChanges.indices) func binaryKeySensitive(_ index: Int) {
        var changed = Self.binary
        Self.binaryChanges[index].1(&changed)
        #expect(CacheKey(.binary(changed)) != CacheKey(.binary(Self.binary)), "\(Self.binaryChanges[index].0)")
    }

    @Test func fieldsCannotRunTogether() {
        // Length prefixes: moving text between neighbouring fields changes the key.
        var a = Self.binary
        a.commands = ["make", "install"]
        var b = Self.binary
        b.commands = ["make\ncommand=install"]
        #expect(CacheKey(.binary(a)) != CacheKey(.binary(b)))
    }

    @Test func fragmentOrderAndDuplicatesDoNotMatter() throws {
        let a = try InputResolver.canonicalFragments(["CONFIG_PRINTK=y", "CONFIG_64BIT=y"], machine: "m")
        let b = try InputResolver.canonicalFragments(
            ["CONFIG_64BIT=n", "CONFIG_64BIT=y", "  CONFIG_PRINTK=y "], machine: "m")
        #expect(a == ["CONFIG_64BIT=y", "CONFIG_PRINTK=y"])
        #expect(a == b)
        #expect(try InputResolver.canonicalFragments(["CONFIG_X=n"], machine: "m") == ["# CONFIG_X is not set"])
        #expect(throws: CompileError.self) { try InputResolver.canonicalFragments(["X=y"], machine: "m") }
    }

    @Test func sameInputsOnTwoMachinesMakeOneJob() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("src/hello.c", "int main(void) { return 0; }\n")
        let resolver = InputResolver(runner: fakeRunner())
        let hello = BinarySpec(name: "hello", source: "dir:\(dir.path)/src", build: ["make"])
        let jobs = try await resolver.jobs(for: [
            machine("a", binaries: [hello]), machine("b", march: "x86-64-v3", binaries: [hello]),
            machine("c", binaries: [hello]),
        ])
        #expect(jobs.count == 2)
        #expect(jobs.map(\.machines).sorted { $0.count > $1.count } == [["a", "c"], ["b"]])

        // Editing the source changes the key.
        let before = try await resolver.resolve(hello, cpu: CPUSpec(), machine: "a")
        try dir.write("src/hello.c", "int main(void) { return 1; }\n")
        let after = try await resolver.resolve(hello, cpu: CPUSpec(), machine: "a")
        #expect(CacheKey(.binary(before)) != CacheKey(.binary(after)))
        #expect(after.toolchain == "gcc (Test) 1.0")
    }

    @Test func refusesNativeAndPackageKernels() async throws {
        let resolver = InputResolver(runner: fakeRunner())
        await #expect(throws: CompileError.self) {
            try await resolver.resolve(
                BinarySpec(name: "x", source: "dir:/tmp"), cpu: CPUSpec(march: "native"), machine: "m")
        }
        await #expect(throws: CompileError.self) {
            try await resolver.resolve(KernelSpec(source: "package:linux-image-amd64"), machine: "m")
        }
        // package: kernels are Debian's build: no job at all.
        let jobs = try await resolver.jobs(for: [machine("m", kernel: KernelSpec(source: "package:linux-image-amd64"))])
        #expect(jobs.isEmpty)
    }
}
