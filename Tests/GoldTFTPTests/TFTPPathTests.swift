import Testing

@testable import GoldTFTP

@Suite("TFTP path confinement")
struct TFTPPathTests {
    @Test(
        "accepted names and their root-relative form",
        arguments: [
            ("pxelinux.0", "pxelinux.0"),
            ("/pxelinux.0", "pxelinux.0"),
            ("//pxelinux.0", "pxelinux.0"),
            ("pxelinux.cfg/01-52-54-00-12-34-56", "pxelinux.cfg/01-52-54-00-12-34-56"),
            ("./boot//grub/./grub.cfg", "boot/grub/grub.cfg"),
            ("pxelinux.cfg/", "pxelinux.cfg"),
            ("...", "..."),
            ("a..b/..c", "a..b/..c"),
            ("%2e%2e/etc/passwd", "%2e%2e/etc/passwd"),
        ])
    func accepted(_ requested: String, _ expected: String) throws {
        #expect(try TFTPPath.confine(requested) == expected)
    }

    @Test(
        "refused names and their RFC 1350 error codes",
        arguments: [
            ("..", TFTPErrorCode.accessViolation),
            ("../etc/passwd", .accessViolation),
            ("/../etc/passwd", .accessViolation),
            ("boot/../../etc/shadow", .accessViolation),
            ("boot/..", .accessViolation),
            ("boot/../boot/x", .accessViolation),
            ("\\windows\\system32", .accessViolation),
            ("boot\\..\\x", .accessViolation),
            ("a\u{0}b", .accessViolation),
            ("", .fileNotFound),
            ("/", .fileNotFound),
            ("./", .fileNotFound),
            ("//.//", .fileNotFound),
        ])
    func refused(_ requested: String, _ code: TFTPErrorCode) {
        do {
            let path = try TFTPPath.confine(requested)
            Issue.record("'\(requested)' was accepted as '\(path)'")
        } catch {
            #expect(error.wireCode == code, "\(error)")
        }
    }
}
