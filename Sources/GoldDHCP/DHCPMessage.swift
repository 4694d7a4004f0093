import NIOCore

/// A BOOTP/DHCP message (RFC 2131 §2, figure 1), header fields and options.
public struct DHCPMessage: Hashable, Sendable {
    /// op: 1 BOOTREQUEST (client to server), 2 BOOTREPLY (RFC 2131 §2).
    public var op: UInt8
    /// htype: hardware address type, 1 for Ethernet (RFC 1700 "Hardware Type").
    public var htype: UInt8
    /// hlen: hardware address length, 6 for Ethernet; at most 16.
    public var hlen: UInt8
    /// hops: relay agents passed; clients send 0.
    public var hops: UInt8
    /// xid: transaction id chosen by the client, echoed in replies.
    public var xid: UInt32
    /// secs: seconds since the client began acquiring an address.
    public var secs: UInt16
    /// flags: the top bit is the BROADCAST flag (RFC 2131 §2, figure 2); the rest must be zero.
    public var flags: UInt16
    /// ciaddr: client address, only when the client already has one (BOUND, RENEW, REBIND, INFORM).
    public var ciaddr: IPv4Address
    /// yiaddr: "your" address, the address the server gives.
    public var yiaddr: IPv4Address
    /// siaddr: next server to use in bootstrap (TFTP server), RFC 2131 §2.
    public var siaddr: IPv4Address
    /// giaddr: relay agent address.
    public var giaddr: IPv4Address
    /// chaddr: client hardware address, the full 16-byte field.
    public var chaddr: [UInt8]
    /// sname: server host name, the bytes before the first NUL (at most 64).
    public var sname: [UInt8]
    /// file: boot file name, the bytes before the first NUL (at most 128).
    public var file: [UInt8]
    /// Options in order of first appearance; repeated codes are concatenated (RFC 3396 §5).
    public var options: [DHCPOption]

    /// op value of a client's message.
    public static let bootRequest: UInt8 = 1
    /// op value of a server's message.
    public static let bootReply: UInt8 = 2
    /// The BROADCAST bit of `flags` (RFC 2131 §2).
    public static let broadcastFlag: UInt16 = 0x8000
    /// 99.130.83.99, the first four bytes of the options field (RFC 2131 §3).
    public static let magicCookie: [UInt8] = [99, 130, 83, 99]
    /// Length of the fixed BOOTP header before the magic cookie.
    static let headerLength = 236

    /// A message with every field given; chaddr is padded or cut to 16 bytes, sname to 64, file to 128.
    public init(
        op: UInt8, htype: UInt8 = 1, hlen: UInt8 = 6, hops: UInt8 = 0, xid: UInt32, secs: UInt16 = 0,
        flags: UInt16 = 0, ciaddr: IPv4Address = .any, yiaddr: IPv4Address = .any, siaddr: IPv4Address = .any,
        giaddr: IPv4Address = .any, chaddr: [UInt8], sname: [UInt8] = [], file: [UInt8] = [],
        options: [DHCPOption] = []
    ) {
        self.op = op
        self.htype = htype
        self.hlen = hlen
        self.hops = hops
        self.xid = xid
        self.secs = secs
        self.flags = flags
        self.ciaddr = ciaddr
        self.yiaddr = yiaddr
        self.siaddr = siaddr
        self.giaddr = giaddr
        self.chaddr = Array((chaddr + Array(repeating: 0, count: 16)).prefix(16))
        self.sname = Array(sname.prefix(64))
        self.file = Array(file.prefix(128))
        self.options = options
    }

    /// True when the client asked for broadcast replies (RFC 2131 §4.1).
    public var broadcast: Bool {
        get { flags & Self.broadcastFlag != 0 }
        set { flags = newValue ? flags | Self.broadcastFlag : flags & ~Self.broadcastFlag }
    }

    /// The Ethernet address in chaddr; nil unless htype is 1 and hlen 6.
    public var clientMAC: MACAddress? {
        guard htype == 1, hlen == 6 else { return nil }
        return MACAddress(bytes: chaddr.prefix(6))
    }

    /// `file` as text (lossy for non-UTF-8 bytes).
    public var bootFileName: String {
        get { String(decoding: file, as: UTF8.self) }
        set { file = Array(newValue.utf8.prefix(128)) }
    }

    /// `sname` as text (lossy for non-UTF-8 bytes).
    public var serverName: String {
        get { String(decoding: sname, as: UTF8.self) }
        set { sname = Array(newValue.utf8.prefix(64)) }
    }
}

// MARK: - Parsing

extension DHCPMessage {
    /// Reads a message from a UDP payload; throws `DHCPParseError` naming the field for malformed input.
    public init(parsing buffer: ByteBuffer) throws {
        var buffer = buffer
        func take(_ count: Int, _ field: String) throws -> [UInt8] {
            guard let bytes = buffer.readBytes(length: count) else {
                throw DHCPParseError(
                    code: .truncated, field: field,
                    message: "datagram ends inside \(field) (\(buffer.readableBytes) bytes left, \(count) needed)")
            }
            return bytes
        }
        func integer<T: FixedWidthInteger>(_ field: String, as: T.Type = T.self) throws -> T {
            try take(MemoryLayout<T>.size, field).reduce(0) { $0 << 8 | T($1) }
        }
        func address(_ field: String) throws -> IPv4Address {
            IPv4Address(value: try integer(field))
        }

        let op: UInt8 = try integer("op")
        let htype: UInt8 = try integer("htype")
        let hlen: UInt8 = try integer("hlen")
        guard hlen <= 16 else {
            throw DHCPParseError(
                code: .badHardwareLength, field: "hlen", message: "hlen \(hlen) exceeds the 16-byte chaddr field")
        }
        let hops: UInt8 = try integer("hops")
        let xid: UInt32 = try integer("xid")
        let secs: UInt16 = try integer("secs")
        let flags: UInt16 = try integer("flags")
        let ciaddr = try address("ciaddr")
        let yiaddr = try address("yiaddr")
        let siaddr = try address("siaddr")
        let giaddr = try address("giaddr")
        let chaddr = try take(16, "chaddr")
        let snameField = try take(64, "sname")
        let fileField = try take(128, "file")
        guard try take(4, "magic cookie") == Self.magicCookie else {
            throw DHCPParseError(
                code: .badMagicCookie, field: "magic cookie", message: "options do not start with 99.130.83.99")
        }

        // RFC 2131 §4.1: options field first, then file, then sname when option 52 says they are overloaded.
        var raw = try Self.readOptions(Array(buffer.readableBytesView), area: "options")
        var sname = Self.cString(snameField)
        var file = Self.cString(fileField)
        // Option 52 is read as it will be kept: all its instances joined (RFC 3396 §5), so a message whose
        // overload option is split (e.g. an empty instance, then [1]) round-trips (found by Fuzz/dhcp).
        if let overload = Self.concatenate(raw).first(where: { $0.code == 52 }), overload.data.count == 1 {
            if overload.data[0] & 1 != 0 {
                raw += try Self.readOptions(fileField, area: "file")
                file = []
            }
            if overload.data[0] & 2 != 0 {
                raw += try Self.readOptions(snameField, area: "sname")
                sname = []
            }
        }
        self.init(
            op: op, htype: htype, hlen: hlen, hops: hops, xid: xid, secs: secs, flags: flags, ciaddr: ciaddr,
            yiaddr: yiaddr, siaddr: siaddr, giaddr: giaddr, chaddr: chaddr, sname: sname, file: file,
            options: Self.concatenate(raw).map { DHCPOption(code: $0.code, data: $0.data) })
    }

    /// Convenience for byte arrays (fixtures, fuzzing).
    public init(parsing bytes: [UInt8]) throws {
        try self.init(parsing: ByteBuffer(bytes: bytes))
    }

    private static func cString(_ field: [UInt8]) -> [UInt8] {
        Array(field.prefix { $0 != 0 })
    }

    /// Splits an option area into (code, data) pairs, stopping at END (255); pads (0) are skipped.
    private static func readOptions(_ area: [UInt8], area name: String) throws -> [(code: UInt8, data: [UInt8])] {
        var result: [(code: UInt8, data: [UInt8])] = []
        var index = 0
        while index < area.count {
            let code = area[index]
            if code == 255 { break }
            if code == 0 {
                index += 1
                continue
            }
            guard index + 1 < area.count else {
                throw DHCPParseError(
                    code: .optionOverrun, field: "option \(code)",
                    message: "option \(code) in the \(name) field has no length byte")
            }
            let length = Int(area[index + 1])
            let start = index + 2
            guard start + length <= area.count else {
                throw DHCPParseError(
                    code: .optionOverrun, field: "option \(code)",
                    message:
                        "option \(code) claims \(length) bytes but the \(name) field has \(area.count - start) left")
            }
            result.append((code, Array(area[start..<start + length])))
            index = start + length
        }
        return result
    }

    /// RFC 3396 §5: several instances of one option code form one value, in order.
    private static func concatenate(_ raw: [(code: UInt8, data: [UInt8])]) -> [(code: UInt8, data: [UInt8])] {
        var order: [UInt8] = []
        var data: [UInt8: [UInt8]] = [:]
        for option in raw {
            if data[option.code] == nil { order.append(option.code) }
            data[option.code, default: []] += option.data
        }
        return order.map { ($0, data[$0] ?? []) }
    }
}

// MARK: - Encoding

extension DHCPMessage {
    /// Writes the message; options longer than 255 bytes are split (RFC 3396), and the datagram is padded
    /// to the 300-byte BOOTP minimum some PXE ROMs insist on (RFC 1542 §2.1).
    public func encode(into buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        buffer.writeInteger(op)
        buffer.writeInteger(htype)
        buffer.writeInteger(hlen)
        buffer.writeInteger(hops)
        buffer.writeInteger(xid)
        buffer.writeInteger(secs)
        buffer.writeInteger(flags)
        for address in [ciaddr, yiaddr, siaddr, giaddr] {
            buffer.writeInteger(address.value)
        }
        Self.writeField(chaddr, size: 16, into: &buffer)
        Self.writeField(sname, size: 64, into: &buffer)
        Self.writeField(file, size: 128, into: &buffer)
        buffer.writeBytes(Self.magicCookie)
        for option in options {
            let data = option.data
            var offset = 0
            repeat {
                let chunk = data[offset..<min(offset + 255, data.count)]
                buffer.writeInteger(option.code)
                buffer.writeInteger(UInt8(chunk.count))
                buffer.writeBytes(chunk)
                offset += 255
            } while offset < data.count
        }
        buffer.writeInteger(UInt8(255))
        let written = buffer.writerIndex - start
        if written < 300 {
            buffer.writeRepeatingByte(0, count: 300 - written)
        }
    }

    /// The encoded message as a new buffer.
    public func encoded() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(300)
        encode(into: &buffer)
        return buffer
    }

    private static func writeField(_ bytes: [UInt8], size: Int, into buffer: inout ByteBuffer) {
        let used = bytes.prefix(size)
        buffer.writeBytes(used)
        buffer.writeRepeatingByte(0, count: size - used.count)
    }
}
