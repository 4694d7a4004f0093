import Foundation
import GoldCore
import GoldSpawn

/// Writes the per-machine files into a staged root filesystem. Paths are resolved inside the stage: a symlink
/// in the base (even an absolute one such as `/etc/resolv.conf -> /run/…`) never leads a write onto the host.
struct RootfsCustomizer: Sendable {
    let stage: URL
    let machine: MachineSpec
    let epoch: Int64
    let runner: any ProgramRunner
    /// Records what this customizer writes, so it can be appended after the base (see ``OverlayLog``).
    var overlay: OverlayLog? = nil

    /// `path` (absolute inside the machine) resolved within the stage, following directory symlinks re-rooted
    /// at the stage. The last component is not followed.
    func resolve(_ path: String) throws -> URL {
        var resolved: [String] = []
        var pending = path.split(separator: "/").map(String.init)
        var hops = 0
        while !pending.isEmpty {
            let part = pending.removeFirst()
            if part == "." || part.isEmpty { continue }
            if part == ".." {
                _ = resolved.popLast()
                continue
            }
            let candidate = stage.path + "/" + (resolved + [part]).joined(separator: "/")
            var st = stat()
            if !pending.isEmpty, lstat(candidate, &st) == 0, st.st_mode & S_IFMT == S_IFLNK {
                hops += 1
                guard hops < 40 else {
                    throw GoldError(.invalidInput, "too many symlinks resolving \(path) in the base")
                }
                let target = try FileManager.default.destinationOfSymbolicLink(atPath: candidate)
                if target.hasPrefix("/") { resolved = [] }
                pending = target.split(separator: "/").map(String.init) + pending
                continue
            }
            resolved.append(part)
        }
        return URL(fileURLWithPath: stage.path + "/" + resolved.joined(separator: "/"))
    }

    func write(_ data: Data, at path: String, mode: UInt16 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0) throws {
        let url = try resolve(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var st = stat()
        if lstat(url.path, &st) == 0 { try FileManager.default.removeItem(at: url) }
        guard FileManager.default.createFile(atPath: url.path, contents: data) else {
            throw GoldError(.io, "cannot write \(path) in the image", at: url.path)
        }
        try setOwner(url, mode: mode, uid: uid, gid: gid)
        overlay?.record(url)
    }

    func writeText(_ text: String, at path: String, mode: UInt16 = 0o644) throws {
        try write(Data(text.utf8), at: path, mode: mode)
    }

    func setOwner(_ url: URL, mode: UInt16, uid: UInt32, gid: UInt32) throws {
        guard chmod(url.path, mode_t(mode)) == 0 else { throw AtomicFile.ioError("cannot chmod", url) }
        guard lchown(url.path, uid, gid) == 0 else {
            throw GoldError(.io, "cannot chown \(url.path) to \(uid):\(gid) (image builds run as root)", at: url.path)
        }
    }

    func read(_ path: String) -> String {
        guard let url = try? resolve(path) else { return "" }
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }

    func installFiles(_ files: [ImageFile], what: String) async throws {
        for file in files {
            guard file.path.hasPrefix("/"), !file.path.split(separator: "/").contains("..") else {
                throw GoldError(.invalidInput, "\(what) path \(file.path) must be absolute without '..'", at: file.path)
            }
            let data: Data
            switch file.source {
            case .bytes(let bytes): data = bytes
            case .file(let url):
                guard let bytes = FileManager.default.contents(atPath: url.path) else {
                    throw GoldError(
                        .notFound, "\(what) source \(url.path) for \(file.path) cannot be read", at: url.path)
                }
                data = bytes
            }
            if let expected = file.sha256 {
                let actual = ChunkHash(of: data).hex
                guard actual == expected.lowercased() else {
                    throw GoldError(
                        .invalidInput, "\(what) \(file.path) has SHA-256 \(actual), expected \(expected)", at: file.path
                    )
                }
            }
            try write(data, at: file.path, mode: file.mode, uid: file.uid, gid: file.gid)
        }
    }

    func writeIdentity() throws {
        try writeText(SystemFiles.hostname(machine), at: "/etc/hostname")
        try writeText(SystemFiles.hosts(machine), at: "/etc/hosts")
        try writeText(try SystemFiles.networkdUnit(machine), at: "/etc/systemd/network/20-gold.network")
        if machine.network.mode == .static, !machine.network.dns.isEmpty {
            try writeText(
                machine.network.dns.map { "nameserver \($0)" }.joined(separator: "\n") + "\n", at: "/etc/resolv.conf")
        }
        // systemd-networkd applies the unit; enable it when the base has it.
        if unitPath("systemd-networkd.service") != nil { try enable(units: ["systemd-networkd.service"]) }
    }

    func writeUsers() throws {
        guard !machine.users.isEmpty else { return }
        var accounts = AccountFiles(
            passwd: read("/etc/passwd").isEmpty ? "root:x:0:0:root:/root:/bin/sh\n" : read("/etc/passwd"),
            group: read("/etc/group").isEmpty ? "root:x:0:\n" : read("/etc/group"),
            shadow: read("/etc/shadow").isEmpty ? "root:*:\(epoch / 86400):0:99999:7:::\n" : read("/etc/shadow"),
            gshadow: read("/etc/gshadow").isEmpty ? "root:*::\n" : read("/etc/gshadow"))
        for user in machine.users { try accounts.add(user, daysSinceEpoch: Int(epoch / 86400)) }
        try writeText(accounts.passwdText, at: "/etc/passwd")
        try writeText(accounts.groupText, at: "/etc/group")
        try write(
            Data(accounts.shadowText.utf8), at: "/etc/shadow", mode: 0o640, gid: gid(named: "shadow", in: accounts) ?? 0
        )
        try write(
            Data(accounts.gshadowText.utf8), at: "/etc/gshadow", mode: 0o640,
            gid: gid(named: "shadow", in: accounts) ?? 0)
        for user in machine.users {
            guard let (uid, gid) = accounts.ids(of: user.name) else { continue }
            let home = try resolve("/home/\(user.name)")
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            try setOwner(home, mode: 0o750, uid: uid, gid: gid)
            if !user.keys.isEmpty {
                let ssh = home.appendingPathComponent(".ssh")
                try FileManager.default.createDirectory(at: ssh, withIntermediateDirectories: true)
                try setOwner(ssh, mode: 0o700, uid: uid, gid: gid)
                try write(
                    Data((user.keys.joined(separator: "\n") + "\n").utf8),
                    at: "/home/\(user.name)/.ssh/authorized_keys", mode: 0o600, uid: uid, gid: gid)
            }
            if let rule = user.sudo {
                guard !rule.contains("\n") else {
                    throw GoldError(.invalidInput, "sudo rule must be one line", at: "users.\(user.name).sudo")
                }
                try write(Data("\(user.name) \(rule)\n".utf8), at: "/etc/sudoers.d/gold-\(user.name)", mode: 0o440)
            }
        }
    }

    private func gid(named name: String, in accounts: AccountFiles) -> UInt32? {
        accounts.group.first { $0.first == name }.flatMap { $0.count > 2 ? UInt32($0[2]) : nil }
    }

    /// Where a unit file lives in the image, as a path inside the machine.
    func unitPath(_ unit: String) -> String? {
        for dir in ["/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"] {
            if let url = try? resolve("\(dir)/\(unit)"), FileManager.default.fileExists(atPath: url.path) {
                return "\(dir)/\(unit)"
            }
        }
        return nil
    }

    /// Enables units for multi-user.target the way `systemctl enable` does for `WantedBy=multi-user.target`.
    func enable(units: [String]) throws {
        for name in units {
            let unit = name.contains(".") ? name : name + ".service"
            guard let target = unitPath(unit) else {
                throw GoldError(
                    .notFound, "service \(unit) has no unit file in the image", at: "\(machine.name).services")
            }
            let link = try resolve("/etc/systemd/system/multi-user.target.wants/\(unit)")
            try FileManager.default.createDirectory(
                at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: link)
            try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: target)
            overlay?.record(link)
        }
    }
}
