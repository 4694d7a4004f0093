import NIOCore
import Testing

@testable import GoldTFTP

@Suite("TFTP packet codec")
struct TFTPPacketParseTests {
    struct Fixture: CustomTestStringConvertible, Sendable {
        var name: String
        var bytes: [UInt8]
        var packet: TFTPPacket
        var testDescription: String { self.name }
    }

    static func ascii(_ string: String) -> [UInt8] { Array(string.utf8) }

    static let fixtures: [Fixture] = [
        Fixture(
            name: "RRQ octet, as tftp-hpa sends it",
            bytes: [0, 1] + ascii("pxelinux.0") + [0] + ascii("octet") + [0],
            packet: .readRequest(TFTPRequest(filename: "pxelinux.0", mode: .octet))
        ),
        Fixture(
            name: "RRQ with options, as atftp sends it",
            bytes: [0, 1] + ascii("f") + [0] + ascii("octet") + [0] + ascii("blksize") + [0] + ascii("1468") + [0]
                + ascii("windowsize") + [0] + ascii("16") + [0],
            packet: .readRequest(
                TFTPRequest(
                    filename: "f", mode: .octet,
                    options: [TFTPOption("blksize", "1468"), TFTPOption("windowsize", "16")])
            )
        ),
        Fixture(
            name: "RRQ NETASCII upper case mode",
            bytes: [0, 1] + ascii("a.txt") + [0] + ascii("NETASCII") + [0],
            packet: .readRequest(TFTPRequest(filename: "a.txt", mode: .netascii))
        ),
        Fixture(
            name: "WRQ",
            bytes: [0, 2] + ascii("up") + [0] + ascii("octet") + [0],
            packet: .writeRequest(TFTPRequest(filename: "up", mode: .octet))
        ),
        Fixture(
            name: "DATA block 1 with 3 bytes",
            bytes: [0, 3, 0, 1, 0xAA, 0xBB, 0xCC],
            packet: .data(block: 1, payload: ByteBuffer(bytes: [0xAA, 0xBB, 0xCC]))
        ),
        Fixture(
            name: "DATA empty final block 65535", bytes: [0, 3, 0xFF, 0xFF],
            packet: .data(block: 65535, payload: ByteBuffer())),
        Fixture(name: "ACK 0", bytes: [0, 4, 0, 0], packet: .ack(block: 0)),
        Fixture(name: "ACK 258", bytes: [0, 4, 1, 2], packet: .ack(block: 258)),
        Fixture(
            name: "ERROR 8 from a client refusing an OACK",
            bytes: [0, 5, 0, 8] + ascii("no") + [0],
            packet: .error(code: .optionNegotiationRefused, message: "no")
        ),
        Fixture(
            name: "OACK tsize",
            bytes: [0, 6] + ascii("tsize") + [0] + ascii("513") + [0],
            packet: .optionAck([TFTPOption("tsize", "513")])
        ),
    ]

    @Test("parses byte fixtures", arguments: fixtures)
    func parsesFixture(_ fixture: Fixture) throws {
        #expect(try TFTPPacket.parse(ByteBuffer(bytes: fixture.bytes)) == fixture.packet)
    }

    @Test("encodes to the same bytes", arguments: fixtures.filter { $0.name != "RRQ NETASCII upper case mode" })
    func encodesFixture(_ fixture: Fixture) {
        #expect(Array(fixture.packet.encoded().readableBytesView) == fixture.bytes)
    }

    @Test("lenient parsing: NUL padding after a request, ERROR without its NUL")
    func lenient() throws {
        let padded = [0, 1] + Self.ascii("f") + [0] + Self.ascii("octet") + [0, 0, 0, 0]
        #expect(
            try TFTPPacket.parse(ByteBuffer(bytes: padded)) == .readRequest(TFTPRequest(filename: "f", mode: .octet)))
        let error = [0, 5, 0, 1] + Self.ascii("gone")
        #expect(try TFTPPacket.parse(ByteBuffer(bytes: error)) == .error(code: .fileNotFound, message: "gone"))
    }

    struct Malformed: CustomTestStringConvertible, Sendable {
        var bytes: [UInt8]
        var messageContains: String
        var testDescription: String { self.messageContains }
    }

    static let malformed: [Malformed] = [
        Malformed(bytes: [], messageContains: "too short for an opcode"),
        Malformed(bytes: [0], messageContains: "too short for an opcode"),
        Malformed(bytes: [0, 9], messageContains: "unknown opcode 9"),
        Malformed(bytes: [0, 0], messageContains: "unknown opcode 0"),
        Malformed(bytes: [0, 1] + ascii("file"), messageContains: "RRQ filename is not terminated"),
        Malformed(bytes: [0, 1] + ascii("file") + [0] + ascii("octet"), messageContains: "RRQ mode is not terminated"),
        Malformed(bytes: [0, 1] + ascii("f") + [0] + ascii("binary") + [0], messageContains: "mode 'binary'"),
        Malformed(
            bytes: [0, 1] + ascii("f") + [0] + ascii("octet") + [0] + ascii("blksize") + [0],
            messageContains: "option 'blksize' has no value"),
        Malformed(
            bytes: [0, 1] + ascii("f") + [0] + ascii("octet") + [0] + ascii("blksize") + [0] + ascii("9"),
            messageContains: "value of option 'blksize' is not terminated"),
        Malformed(
            bytes: [0, 1, 0xFF, 0xFE, 0] + ascii("octet") + [0], messageContains: "RRQ filename is not valid UTF-8"),
        Malformed(bytes: [0, 3, 0], messageContains: "DATA packet has no block number"),
        Malformed(bytes: [0, 4, 0], messageContains: "ACK packet has no block number"),
        Malformed(bytes: [0, 4, 0, 1, 0], messageContains: "1 bytes after the block number"),
        Malformed(bytes: [0, 5, 0], messageContains: "ERROR packet has no error code"),
    ]

    @Test("malformed packets throw an error naming the problem", arguments: malformed)
    func rejectsMalformed(_ fixture: Malformed) {
        do {
            let packet = try TFTPPacket.parse(ByteBuffer(bytes: fixture.bytes))
            Issue.record("parsed \(packet) from malformed bytes")
        } catch let error as TFTPError {
            #expect(error.message.contains(fixture.messageContains), "\(error.message)")
            #expect(error.wireCode == .illegalOperation)
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }

    @Test(
        "netascii encoding of CR and LF on send",
        arguments: [
            ("a\nb", "a\r\nb"), ("a\rb", "a\r\0b"), ("\r\n", "\r\0\r\n"), ("plain", "plain"), ("", ""),
        ])
    func netasciiEncode(_ input: String, _ expected: String) {
        let encoded = NetASCII.encode(ByteBuffer(string: input))
        #expect(Array(encoded.readableBytesView) == Array(expected.utf8))
        var decoder = NetASCII.Decoder()
        var decoded = ByteBuffer()
        for byte in encoded.readableBytesView {  // one byte at a time: CR split across pieces
            var piece = decoder.decode(ByteBuffer(bytes: [byte]))
            decoded.writeBuffer(&piece)
        }
        var tail = decoder.finish()
        decoded.writeBuffer(&tail)
        #expect(Array(decoded.readableBytesView) == Array(input.utf8))
    }
}
