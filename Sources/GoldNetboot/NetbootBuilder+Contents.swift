import Foundation
import GoldSpawn

/// The initramfs's entries before they are archived.
struct NetbootContents {
    var tree: ArchiveTree
    /// Module paths in load order.
    var modules: [String]
}

extension NetbootBuilder {
    /// Gathers every entry: skeleton, `/init`, busybox and its applets, the agent, the tools with their libraries,
    /// and the modules with a trimmed `modules.dep`.
    func collect(kernelVersion: String, work: String) async throws -> NetbootContents {
        var tree = ArchiveTree()
        for directory in ["dev", "proc", "sys", "run", "root", "mnt", "var", "etc/gold"] {
            tree.insert(.directory(directory))
        }
        tree.insert(.directory("tmp", permissions: 0o1777))
        // The kernel opens /dev/console for init before anything is mounted.
        tree.insert(ArchiveEntry(path: "dev/console", kind: .characterDevice(major: 5, minor: 1), permissions: 0o600))
        tree.insert(ArchiveEntry(path: "dev/null", kind: .characterDevice(major: 1, minor: 3), permissions: 0o666))
        tree.insert(.text("init", InitScript.render(kernelVersion: kernelVersion), permissions: 0o755))
        tree.insert(.text("etc/gold/udhcpc.script", InitScript.udhcpcHook, permissions: 0o755))
        tree.insert(.text("etc/gold/netboot-release", "kernel=\(kernelVersion)\n"))
        tree.insert(.text("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"))
        tree.insert(.text("etc/group", "root:x:0:\n"))
        tree.insert(.text("etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n"))
        tree.insert(.text("etc/hosts", "127.0.0.1 localhost\n"))
        if FileManager.default.fileExists(atPath: "/etc/mke2fs.conf") { try tree.addHostPath("/etc/mke2fs.conf") }

        report(.step("agent: \(agentBinary)"))
        guard FileManager.default.isExecutableFile(atPath: agentBinary) else {
            throw NetbootError(.missingInput, "no agent binary at \(agentBinary): build it with scripts/build-agent.sh")
        }
        var agent = agentBinary
        if stripAgent {
            agent = work + "/gold-agent"
            let result = try await run(try tool("strip", package: "binutils"), ["-o", agent, agentBinary])
            guard result.exitCode == 0 else {
                throw NetbootError(.toolFailed, "strip \(agentBinary) failed: \(result.stderr)")
            }
        }
        try tree.addHostFile(agent, at: "usr/bin/gold-agent")
        try await addLibraries(of: agentBinary, to: &tree)

        for hostTool in tools {
            guard let path = runner.locate(hostTool.name) else {
                throw NetbootError(
                    .missingTool,
                    "\(hostTool.name) is not installed on the build host: apt-get install \(hostTool.debianPackage)")
            }
            report(.step("tool \(hostTool.name): \(path)"))
            try tree.addHostPath(path)
            try await addLibraries(of: path, to: &tree)
        }

        // Busybox last: its applets fill only the names the real tools left free.
        guard FileManager.default.isExecutableFile(atPath: busybox) else {
            throw NetbootError(.missingTool, "no busybox at \(busybox): apt-get install busybox-static")
        }
        try tree.addHostFile(busybox, at: "usr/bin/busybox")
        try await addLibraries(of: busybox, to: &tree)
        let list = try await run(busybox, ["--list-full"])
        guard list.exitCode == 0 else {
            throw NetbootError(.toolFailed, "\(busybox) --list-full failed: \(list.stderr)")
        }
        for applet in list.stdout.split(separator: "\n") where !applet.isEmpty {
            let path = ArchiveTree.archivePath(ofHostPath: "/" + applet)
            if path != "usr/bin/busybox" { tree.insert(.symlink(path, to: "/usr/bin/busybox"), replace: false) }
        }

        let modules = try await addModules(kernelVersion: kernelVersion, work: work, to: &tree)
        return NetbootContents(tree: tree, modules: modules)
    }

    /// Copies what `ldd` lists for `program`, at the paths `ldd` names.
    func addLibraries(of program: String, to tree: inout ArchiveTree) async throws {
        let result = try await run(try tool("ldd", package: "libc-bin"), [program])
        let output = result.stdout + result.stderr
        if result.exitCode != 0 {
            if output.contains("not a dynamic executable") { return }
            throw NetbootError(.toolFailed, "ldd \(program) failed: \(output)")
        }
        for library in try SharedLibraries.parse(lddOutput: output, program: program) { try tree.addHostPath(library) }
    }

    /// Resolves `modules` through `modules.dep` (running `depmod` on a scratch tree when the kernel package
    /// has none), copies them and writes `/etc/gold/modules.order` for `/init`.
    func addModules(kernelVersion: String, work: String, to tree: inout ArchiveTree) async throws -> [String] {
        let source = "\(kernelDir)/lib/modules/\(kernelVersion)"
        var index = source
        if !FileManager.default.fileExists(atPath: source + "/modules.dep") {
            report(.step("depmod \(kernelVersion)"))
            let base = work + "/depmod"
            index = "\(base)/lib/modules/\(kernelVersion)"
            let fm = FileManager.default
            do {
                try fm.createDirectory(atPath: index, withIntermediateDirectories: true)
                try fm.createSymbolicLink(atPath: index + "/kernel", withDestinationPath: source + "/kernel")
                for file in ["modules.order", "modules.builtin", "modules.builtin.modinfo"]
                where fm.fileExists(atPath: "\(source)/\(file)") {
                    try fm.copyItem(atPath: "\(source)/\(file)", toPath: "\(index)/\(file)")
                }
            } catch {
                throw NetbootError(.io, "cannot prepare depmod's tree in \(base): \(error.localizedDescription)")
            }
            let result = try await run(try tool("depmod", package: "kmod"), ["-b", base, kernelVersion])
            guard result.exitCode == 0 else {
                throw NetbootError(.toolFailed, "depmod for \(kernelVersion) failed: \(result.stderr)")
            }
        }
        func read(_ name: String) -> String { (try? String(contentsOfFile: "\(index)/\(name)", encoding: .utf8)) ?? "" }
        let dependencies = try ModuleDependencies(
            modulesDep: read("modules.dep"), modulesBuiltin: read("modules.builtin"))
        let order: [String]
        do { order = try dependencies.loadOrder(for: modules) } catch let error as NetbootError {
            throw NetbootError(error.code, "kernel \(kernelVersion): \(error.message)")
        }
        report(.step("\(order.count) modules"))
        let target = "usr/lib/modules/\(kernelVersion)"
        for path in order { try tree.addHostFile("\(source)/\(path)", at: "\(target)/\(path)") }
        tree.insert(.text("\(target)/modules.dep", dependencies.modulesDep(for: order)))
        tree.insert(
            .text("\(target)/modules.alias", ModuleDependencies.filter(aliases: read("modules.alias"), keeping: order)))
        tree.insert(
            .text(
                "\(target)/modules.softdep", ModuleDependencies.filter(aliases: read("modules.softdep"), keeping: order)
            ))
        tree.insert(.text("\(target)/modules.builtin", read("modules.builtin")))
        tree.insert(.text("etc/gold/modules.order", order.map { $0 + "\n" }.joined()))
        return order
    }
}
