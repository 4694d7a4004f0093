import NIOCore

extension TFTPPacket {
    /// Appends the wire form of this packet to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(self.opcode.rawValue)
        switch self {
        case .readRequest(let request), .writeRequest(let request):
            // RFC 1350 §5: filename NUL mode NUL; RFC 2347 §2: then name NUL value NUL per option.
            buffer.writeCString(request.filename)
            buffer.writeCString(request.mode.rawValue)
            for option in request.options {
                buffer.writeCString(option.name)
                buffer.writeCString(option.value)
            }
        case .data(let block, let payload):
            buffer.writeInteger(block)
            var payload = payload
            buffer.writeBuffer(&payload)
        case .ack(let block):
            buffer.writeInteger(block)
        case .error(let code, let message):
            buffer.writeInteger(code.rawValue)
            buffer.writeCString(message)
        case .optionAck(let options):
            for option in options {
                buffer.writeCString(option.name)
                buffer.writeCString(option.value)
            }
        }
    }
}

extension ByteBuffer {
    @inline(__always)
    fileprivate mutating func writeCString(_ string: String) {
        self.writeString(string)
        self.writeInteger(UInt8(0))
    }
}
