import Foundation
import Testing

@testable import GoldNetboot

@Suite struct SharedLibrariesTests {
    @Test func readsLddOutput() throws {
        let output = """
            \tlinux-vdso.so.1 (0x00007f463bc0d000)
            \tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f4637920000)
            \tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f4637600000)
            \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f463741e000)
            \t/lib64/ld-linux-x86-64.so.2 (0x00007f463bc0f000)
            """
        #expect(
            try SharedLibraries.parse(lddOutput: output, program: "gold-agent") == [
                "/lib/x86_64-linux-gnu/libm.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib64/ld-linux-x86-64.so.2",
            ])
    }

    @Test func staticProgramsNeedNothing() throws {
        #expect(try SharedLibraries.parse(lddOutput: "\tnot a dynamic executable\n", program: "busybox") == [])
        #expect(try SharedLibraries.parse(lddOutput: "\tstatically linked\n", program: "busybox") == [])
    }

    @Test func aMissingLibraryNamesIt() throws {
        let error = #expect(throws: NetbootError.self) {
            try SharedLibraries.parse(lddOutput: "\tlibJudy.so.1 => not found\n", program: "/usr/bin/stress-ng")
        }
        #expect(error?.message.contains("libJudy.so.1") == true)
    }
}

@Suite struct NetbootCommandLineTests {
    @Test(arguments: NetbootCommandLine.Mode.allCases)
    func rendersEveryMode(mode: NetbootCommandLine.Mode) throws {
        let line = NetbootCommandLine(
            director: "http://10.0.0.1:8080", machine: "node-1", token: "abc", mode: mode, bootMAC: "52:54:00:12:34:AB")
        #expect(
            try line.render()
                == "console=ttyS0,115200 gold.director=http://10.0.0.1:8080 gold.machine=node-1 gold.token=abc gold.mode=\(mode.rawValue) BOOTIF=01-52-54-00-12-34-ab"
        )
    }

    @Test func rendersOptionalWords() throws {
        let line = NetbootCommandLine(
            director: "https://gold.example", machine: "m", token: "t", mode: .rescue, console: "ttyS1,9600",
            debug: true, initrdName: "initrd.img")
        #expect(
            try line.render()
                == "initrd=initrd.img console=ttyS1,9600 gold.director=https://gold.example gold.machine=m gold.token=t gold.mode=rescue gold.debug=1"
        )
    }

    @Test(arguments: [
        NetbootCommandLine(director: "10.0.0.1", machine: "m", token: "t", mode: .deploy),
        NetbootCommandLine(director: "http://d", machine: "two words", token: "t", mode: .deploy),
        NetbootCommandLine(director: "http://d", machine: "m", token: "a\"b", mode: .deploy),
        NetbootCommandLine(director: "http://d", machine: "m", token: "", mode: .deploy),
        NetbootCommandLine(director: "http://d", machine: "mä", token: "t", mode: .deploy),
        NetbootCommandLine(director: "http://d", machine: "m", token: "t", mode: .deploy, bootMAC: "52:54:00:12:34"),
        NetbootCommandLine(director: "http://d", machine: "m", token: "t", mode: .deploy, bootMAC: "52:54:00:12:34:zz"),
    ])
    func rejectsWhatTheKernelCannotCarry(line: NetbootCommandLine) {
        let error = #expect(throws: NetbootError.self) { try line.render() }
        #expect(error?.code == .badInput)
    }
}

@Suite struct ArchiveTreeTests {
    @Test(arguments: [
        ("/lib/x86_64-linux-gnu/libc.so.6", "usr/lib/x86_64-linux-gnu/libc.so.6"),
        ("/lib64/ld-linux-x86-64.so.2", "usr/lib64/ld-linux-x86-64.so.2"),
        ("/sbin/blkid", "usr/sbin/blkid"),
        ("/usr/sbin/sfdisk", "usr/sbin/sfdisk"),
        ("/etc/./mke2fs.conf", "etc/mke2fs.conf"),
        ("/usr/lib/../bin/x", "usr/bin/x"),
    ])
    func mapsHostPathsIntoMergedUsr(host: String, archive: String) {
        #expect(ArchiveTree.archivePath(ofHostPath: host) == archive)
    }

    @Test func recreatesSymlinksOnTheWay() throws {
        let dir = try TemporaryDirectory()
        try dir.write("real/tool", "#!/bin/sh\n", executable: true)
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: dir.path + "/linkdir", withDestinationPath: "real")
        try fm.createSymbolicLink(atPath: dir.path + "/real/alias", withDestinationPath: "tool")
        var tree = ArchiveTree()
        try tree.addHostPath(dir.path + "/linkdir/alias")
        let base = String(dir.path.dropFirst())
        #expect(tree.entries[base + "/linkdir"]?.kind == .symlink(target: "real"))
        #expect(tree.entries[base + "/real/alias"]?.kind == .symlink(target: "tool"))
        #expect(tree.entries[base + "/real/tool"]?.kind == .hostFile(path: dir.path + "/real/tool"))
        #expect(tree.entries[base + "/real/tool"]?.permissions == 0o755)
        #expect(tree.entries[base + "/real"]?.kind == .directory)
        #expect(throws: NetbootError.self) { try tree.addHostPath(dir.path + "/absent") }
    }

    @Test func sortedEntriesPutParentsFirstAndKeepExistingOnRequest() {
        var tree = ArchiveTree()
        tree.insert(.text("usr/bin/sfdisk", "real"))
        tree.insert(.symlink("usr/bin/sfdisk", to: "/usr/bin/busybox"), replace: false)
        tree.insert(.text("usr-x", ""))
        #expect(tree.entries["usr/bin/sfdisk"]?.kind == .data(Array("real".utf8)))
        let paths = tree.sortedEntries.map(\.path)
        for (index, path) in paths.enumerated() {
            let parent = path.split(separator: "/").dropLast().joined(separator: "/")
            if !parent.isEmpty { #expect(paths[..<index].contains(parent), "\(parent) before \(path)") }
        }
    }
}
