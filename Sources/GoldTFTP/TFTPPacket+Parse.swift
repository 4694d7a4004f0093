import NIOCore

extension TFTPPacket {
    /// Parses one datagram.
    ///
    /// Throws ``TFTPError`` with code ``TFTPError/Code/malformedPacket`` (wire code 4) naming what was wrong.
    /// Lenient where real clients differ: trailing NUL padding after a request's options is ignored and an
    /// ERROR message without its terminating NUL is accepted.
    public static func parse(_ buffer: ByteBuffer) throws -> TFTPPacket {
        var buffer = buffer
        guard let rawOpcode = buffer.readInteger(as: UInt16.self) else {
            throw TFTPError.malformed("packet of \(buffer.readableBytes) bytes is too short for an opcode")
        }
        guard let opcode = Opcode(rawValue: rawOpcode) else {
            throw TFTPError.malformed("unknown opcode \(rawOpcode)")
        }
        switch opcode {
        case .readRequest:
            return .readRequest(try parseRequest(&buffer, kind: "RRQ"))
        case .writeRequest:
            return .writeRequest(try parseRequest(&buffer, kind: "WRQ"))
        case .data:
            guard let block = buffer.readInteger(as: UInt16.self) else {
                throw TFTPError.malformed("DATA packet has no block number")
            }
            return .data(block: block, payload: buffer)
        case .ack:
            guard let block = buffer.readInteger(as: UInt16.self) else {
                throw TFTPError.malformed("ACK packet has no block number")
            }
            guard buffer.readableBytes == 0 else {
                throw TFTPError.malformed("ACK packet has \(buffer.readableBytes) bytes after the block number")
            }
            return .ack(block: block)
        case .error:
            guard let code = buffer.readInteger(as: UInt16.self) else {
                throw TFTPError.malformed("ERROR packet has no error code")
            }
            let message: String
            if let end = buffer.readableBytesView.firstIndex(of: 0) {
                message = buffer.getString(at: buffer.readerIndex, length: end - buffer.readerIndex) ?? ""
            } else {
                message = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes) ?? ""
            }
            return .error(code: TFTPErrorCode(rawValue: code), message: message)
        case .optionAck:
            return .optionAck(try parseOptions(&buffer, kind: "OACK"))
        }
    }

    private static func parseRequest(_ buffer: inout ByteBuffer, kind: String) throws -> TFTPRequest {
        let filename = try buffer.readTFTPString(field: "\(kind) filename")
        let modeName = try buffer.readTFTPString(field: "\(kind) mode")
        guard let mode = TFTPMode(rawValue: asciiLowercased(modeName)) else {
            throw TFTPError(
                .unsupportedMode, wireCode: .illegalOperation,
                "\(kind) mode '\(modeName)' is not netascii, octet or mail")
        }
        let options = try parseOptions(&buffer, kind: kind)
        return TFTPRequest(filename: filename, mode: mode, options: options)
    }

    private static func parseOptions(_ buffer: inout ByteBuffer, kind: String) throws -> [TFTPOption] {
        var options: [TFTPOption] = []
        while buffer.readableBytes > 0 {
            // Some PXE ROMs pad requests with NUL bytes: an all-NUL tail carries no option.
            if buffer.readableBytesView.allSatisfy({ $0 == 0 }) {
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                break
            }
            let name = try buffer.readTFTPString(field: "\(kind) option name")
            guard buffer.readableBytes > 0 else {
                throw TFTPError.malformed("\(kind) option '\(name)' has no value")
            }
            let value = try buffer.readTFTPString(field: "\(kind) value of option '\(name)'")
            options.append(TFTPOption(name, value))
        }
        return options
    }
}

extension ByteBuffer {
    /// Reads a NUL-terminated UTF-8 string (RFC 1350 §5: "a string of netascii bytes terminated by a zero byte").
    fileprivate mutating func readTFTPString(field: String) throws -> String {
        guard let end = self.readableBytesView.firstIndex(of: 0) else {
            throw TFTPError.malformed("\(field) is not terminated by a NUL byte")
        }
        let length = end - self.readerIndex
        guard let bytes = self.readBytes(length: length), let string = String(validating: bytes, as: UTF8.self) else {
            throw TFTPError.malformed("\(field) is not valid UTF-8")
        }
        self.moveReaderIndex(forwardBy: 1)
        return string
    }
}
