/// Confines a requested filename to the server root, without touching the file system.
///
/// Decisions (documented here because every PXE ROM has an opinion):
/// - Leading `/` are stripped: many ROMs ask for `/pxelinux.0` and mean the TFTP root (tftpd-hpa `-s` does
///   the same), so an absolute-looking name is root-relative, never a host path.
/// - Empty segments (`a//b`) and `.` segments are dropped.
/// - Any `..` segment is refused (access violation), even one that would stay inside the root: there is no
///   legitimate need and resolving it invites mistakes.
/// - Backslashes and NUL bytes are refused (access violation): Windows-style paths are not translated.
/// - A name that is empty after normalising (``""``, `/`, `./`) is "file not found": the root is a directory.
///
/// Symlinks inside the root are resolved by the file source, which must re-check that the real path stays
/// inside the root.
public enum TFTPPath {
    /// Returns the root-relative path (segments joined by `/`, no leading `/`) or throws an error carrying the
    /// RFC 1350 code to answer with.
    public static func confine(_ requested: String) throws(TFTPError) -> String {
        if requested.utf8.contains(0) {
            throw TFTPError(.pathRefused, wireCode: .accessViolation, "filename contains a NUL byte")
        }
        if requested.utf8.contains(UInt8(ascii: "\\")) {
            throw TFTPError(.pathRefused, wireCode: .accessViolation, "filename '\(requested)' contains a backslash")
        }
        var segments: [Substring] = []
        for segment in requested.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".":
                continue
            case "..":
                throw TFTPError(.pathRefused, wireCode: .accessViolation, "filename '\(requested)' contains '..'")
            default:
                segments.append(segment)
            }
        }
        guard !segments.isEmpty else {
            throw TFTPError(.fileNotFound, wireCode: .fileNotFound, "filename '\(requested)' names no file")
        }
        return segments.joined(separator: "/")
    }
}
