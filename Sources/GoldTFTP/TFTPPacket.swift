import NIOCore

/// A TFTP packet (RFC 1350 §5) including the option acknowledgement of RFC 2347.
public enum TFTPPacket: Hashable, Sendable {
    /// Opcode 1: read request (RRQ).
    case readRequest(TFTPRequest)
    /// Opcode 2: write request (WRQ).
    case writeRequest(TFTPRequest)
    /// Opcode 3: DATA; `payload` is 0...blksize bytes, shorter than blksize only in the final block.
    case data(block: UInt16, payload: ByteBuffer)
    /// Opcode 4: ACK of a DATA block (block 0 acknowledges an OACK, RFC 2347 §2).
    case ack(block: UInt16)
    /// Opcode 5: ERROR; ends the transfer.
    case error(code: TFTPErrorCode, message: String)
    /// Opcode 6: option acknowledgement (RFC 2347 §2).
    case optionAck([TFTPOption])

    /// The wire opcode of each packet kind (RFC 1350 §5, RFC 2347 §2).
    public enum Opcode: UInt16, Sendable {
        case readRequest = 1
        case writeRequest = 2
        case data = 3
        case ack = 4
        case error = 5
        case optionAck = 6
    }

    /// This packet's opcode.
    public var opcode: Opcode {
        switch self {
        case .readRequest: .readRequest
        case .writeRequest: .writeRequest
        case .data: .data
        case .ack: .ack
        case .error: .error
        case .optionAck: .optionAck
        }
    }

    /// The packet as a new buffer.
    public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: self.encodedSizeHint)
        self.encode(into: &buffer)
        return buffer
    }

    var encodedSizeHint: Int {
        switch self {
        case .data(_, let payload): 4 + payload.readableBytes
        case .ack: 4
        default: 128
        }
    }
}
