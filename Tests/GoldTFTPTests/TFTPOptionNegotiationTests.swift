import Testing

@testable import GoldTFTP

@Suite("TFTP option negotiation (RFC 2347, 2348, 2349, 7440)")
struct TFTPOptionNegotiationTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var options: [TFTPOption]
        var fileSize: Int?
        var oack: [TFTPOption]
        var blockSize = 512
        var windowSize = 1
        var timeout: Int? = nil
        var testDescription: String { self.name }
    }

    static let policy = TFTPOptionPolicy(maxBlockSize: 1468, maxWindowSize: 32)

    static let cases: [Case] = [
        Case(name: "no options, no OACK", options: [], fileSize: 10, oack: []),
        Case(
            name: "blksize accepted", options: [.init("blksize", "1024")], fileSize: 10,
            oack: [.init("blksize", "1024")], blockSize: 1024),
        Case(
            name: "blksize clamped to the configured max", options: [.init("blksize", "65464")], fileSize: 10,
            oack: [.init("blksize", "1468")], blockSize: 1468),
        Case(
            name: "blksize above 65464 clamped too", options: [.init("blksize", "99999")], fileSize: 10,
            oack: [.init("blksize", "1468")], blockSize: 1468),
        Case(
            name: "blksize minimum 8", options: [.init("blksize", "8")], fileSize: 10, oack: [.init("blksize", "8")],
            blockSize: 8),
        Case(name: "blksize 7 ignored", options: [.init("blksize", "7")], fileSize: 10, oack: []),
        Case(name: "blksize not a number ignored", options: [.init("blksize", "12a")], fileSize: 10, oack: []),
        Case(name: "blksize negative ignored", options: [.init("blksize", "-512")], fileSize: 10, oack: []),
        Case(
            name: "names are case-insensitive", options: [.init("BlkSize", "1000"), .init("TSIZE", "0")], fileSize: 77,
            oack: [.init("blksize", "1000"), .init("tsize", "77")], blockSize: 1000),
        Case(
            name: "tsize answered with the file size", options: [.init("tsize", "0")], fileSize: 513,
            oack: [.init("tsize", "513")]),
        Case(
            name: "tsize 0 for an empty file", options: [.init("tsize", "0")], fileSize: 0, oack: [.init("tsize", "0")]),
        Case(name: "tsize left out when the size is unknown", options: [.init("tsize", "0")], fileSize: nil, oack: []),
        Case(
            name: "timeout 1..255 echoed", options: [.init("timeout", "3")], fileSize: 1, oack: [.init("timeout", "3")],
            timeout: 3),
        Case(name: "timeout 0 ignored", options: [.init("timeout", "0")], fileSize: 1, oack: []),
        Case(name: "timeout 256 ignored", options: [.init("timeout", "256")], fileSize: 1, oack: []),
        Case(
            name: "windowsize accepted", options: [.init("windowsize", "16")], fileSize: 1,
            oack: [.init("windowsize", "16")], windowSize: 16),
        Case(
            name: "windowsize clamped to the cap", options: [.init("windowsize", "65535")], fileSize: 1,
            oack: [.init("windowsize", "32")], windowSize: 32),
        Case(name: "windowsize 0 ignored", options: [.init("windowsize", "0")], fileSize: 1, oack: []),
        Case(name: "windowsize 65536 ignored", options: [.init("windowsize", "65536")], fileSize: 1, oack: []),
        Case(
            name: "unknown options ignored, order kept",
            options: [.init("multicast", ""), .init("windowsize", "4"), .init("blksize", "1468")],
            fileSize: 1, oack: [.init("windowsize", "4"), .init("blksize", "1468")], blockSize: 1468, windowSize: 4),
    ]

    @Test("negotiates", arguments: cases)
    func negotiates(_ testCase: Case) throws {
        let request = TFTPRequest(filename: "f", mode: .octet, options: testCase.options)
        let result = try TFTPNegotiatedOptions.negotiate(request, policy: Self.policy, fileSize: testCase.fileSize)
        #expect(result.acknowledged == testCase.oack)
        #expect(result.blockSize == testCase.blockSize)
        #expect(result.windowSize == testCase.windowSize)
        #expect(result.timeoutSeconds == testCase.timeout)
    }

    @Test("an option sent twice is refused with error 8")
    func duplicateRefused() {
        let request = TFTPRequest(
            filename: "f", mode: .octet, options: [.init("blksize", "512"), .init("BLKSIZE", "1024")])
        #expect(throws: TFTPError.self) {
            try TFTPNegotiatedOptions.negotiate(request, policy: Self.policy, fileSize: 1)
        }
        do {
            _ = try TFTPNegotiatedOptions.negotiate(request, policy: Self.policy, fileSize: 1)
        } catch {
            #expect(error.wireCode == .optionNegotiationRefused)
            #expect(error.message.contains("BLKSIZE"))
        }
    }

    @Test("policy keeps its limits in the RFC ranges")
    func policyClamps() {
        #expect(TFTPOptionPolicy(maxBlockSize: 100_000).maxBlockSize == 65464)
        #expect(TFTPOptionPolicy(maxBlockSize: 2).maxBlockSize == 8)
        #expect(TFTPOptionPolicy(maxWindowSize: 0).maxWindowSize == 1)
    }
}
