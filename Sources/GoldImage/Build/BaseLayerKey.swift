import Crypto
import Foundation
import GoldCore

#if canImport(Glibc)
    import Glibc
#endif

/// The key of a formatted base layer: what decides the bytes `mkfs.ext4 -d` (and the time clamp after it) write.
///
/// That is the formatting parameters and every entry of the tree: path, type, permission bits, owner, size,
/// device number, symlink target, hard-link group, extended attributes and a regular file's content hash. Times
/// are not read: the builder sets every time to SOURCE_DATE_EPOCH, which is among the parameters. Two trees with
/// equal keys format to equal partitions, so a partition formatted once is reused (``BaseLayerCache``).
enum BaseLayerKey {
    static let format = "gold-base-layer-1"

    /// `contentHashes` maps a path inside the tree (`/etc/passwd`) to the SHA-256 of its content, as the file list
    /// already holds it; a file missing from it is hashed here.
    static func compute(tree: URL?, contentHashes: [String: String], parameters: [String]) throws -> String {
        var hasher = SHA256()
        func add(_ text: String) { hasher.update(data: Data(text.utf8)) }
        add(format + "\n")
        for parameter in parameters { add("parameter \(parameter)\n") }
        guard let tree else {
            add("no tree\n")
            return hasher.finalize().hexString
        }
        let base = tree.standardizedFileURL.path
        var firstPathOfInode: [String: String] = [:]
        func entry(_ relative: String) throws {
            let full = relative.isEmpty ? base : base + relative
            var st = stat()
            guard lstat(full, &st) == 0 else { throw AtomicFile.ioError("cannot stat", URL(fileURLWithPath: full)) }
            var line =
                "\(relative.isEmpty ? "/" : relative)\u{0}\(String(st.st_mode, radix: 8))\u{0}\(st.st_uid)\u{0}\(st.st_gid)"
            let type = st.st_mode & S_IFMT
            switch type {
            case S_IFREG:
                line += "\u{0}\(st.st_size)\u{0}"
                line += try contentHashes[relative] ?? FileManifest.hashFile(full)
                if st.st_nlink > 1 {
                    let inode = "\(st.st_dev):\(st.st_ino)"
                    if let first = firstPathOfInode[inode] {
                        line += "\u{0}link \(first)"
                    } else {
                        firstPathOfInode[inode] = relative
                    }
                }
            case S_IFLNK:
                line += "\u{0}" + (try FileManager.default.destinationOfSymbolicLink(atPath: full))
            case S_IFCHR, S_IFBLK:
                line += "\u{0}\(st.st_rdev)"
            default:
                break
            }
            line += Xattrs.list(full).map { "\u{0}xattr \($0.name)=\($0.value.base64EncodedString())" }.joined()
            add(line + "\n")
            if type == S_IFDIR {
                for name in try FileManager.default.contentsOfDirectory(atPath: full).sorted() {
                    try entry(relative + "/" + name)
                }
            }
        }
        try entry("")
        return hasher.finalize().hexString
    }
}

/// A path's extended attributes (not following symlinks), by name. `llistxattr`/`lgetxattr` are looked up at
/// run time: Swift's Glibc module does not export <sys/xattr.h>.
enum Xattrs {
    private typealias List = @convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<CChar>?, Int) -> Int
    private typealias Get =
        @convention(c) (
            UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int
        ) -> Int
    private static let functions: (List, Get)? = {
        guard let list = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "llistxattr"),
            let get = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "lgetxattr")
        else { return nil }
        return (unsafeBitCast(list, to: List.self), unsafeBitCast(get, to: Get.self))
    }()

    static func list(_ path: String) -> [(name: String, value: Data)] {
        guard let (list, get) = functions else { return [] }
        let size = list(path, nil, 0)
        guard size > 0 else { return [] }
        var names = [CChar](repeating: 0, count: size)
        let got = names.withUnsafeMutableBufferPointer { list(path, $0.baseAddress, size) }
        guard got > 0 else { return [] }
        var out: [(String, Data)] = []
        for raw in names[0..<got].split(separator: 0) {
            let name = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let length = get(path, name, nil, 0)
            guard length >= 0 else { continue }
            var value = Data(count: length)
            let read = value.withUnsafeMutableBytes { get(path, name, $0.baseAddress, length) }
            guard read >= 0 else { continue }
            out.append((name, value.prefix(read)))
        }
        return out.sorted { $0.0 < $1.0 }
    }
}
