import NIOCore

/// Conversion between local (Unix) text and netascii (RFC 1350 §1, RFC 764: lines end in CR LF, a bare CR is
/// sent as CR NUL).
public enum NetASCII {
    /// Encodes local bytes for sending: LF becomes CR LF, CR becomes CR NUL. Stateless, so chunks encode
    /// independently.
    public static func encode(_ input: ByteBuffer, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer
    {
        let view = input.readableBytesView
        var extra = 0
        for byte in view where byte == 0x0A || byte == 0x0D { extra += 1 }
        if extra == 0 { return input }
        var output = allocator.buffer(capacity: view.count + extra)
        output.writeWithUnsafeMutableBytes(minimumWritableBytes: view.count + extra) { target in
            var index = 0
            for byte in view {
                switch byte {
                case 0x0A:
                    target[index] = 0x0D
                    target[index + 1] = 0x0A
                    index += 2
                case 0x0D:
                    target[index] = 0x0D
                    target[index + 1] = 0x00
                    index += 2
                default:
                    target[index] = byte
                    index += 1
                }
            }
            return index
        }
        return output
    }

    /// Decodes netascii received in pieces: CR LF becomes LF, CR NUL becomes CR. Keeps a trailing CR until the
    /// next piece shows what follows it.
    public struct Decoder: Sendable {
        private var pendingCR = false

        /// Creates a decoder.
        public init() {}

        /// Decodes one piece.
        public mutating func decode(_ input: ByteBuffer) -> ByteBuffer {
            var output = ByteBuffer()
            output.reserveCapacity(input.readableBytes + 1)
            for byte in input.readableBytesView {
                if self.pendingCR {
                    self.pendingCR = false
                    switch byte {
                    case 0x0A: output.writeInteger(UInt8(0x0A))
                    case 0x00: output.writeInteger(UInt8(0x0D))
                    case 0x0D:
                        output.writeInteger(UInt8(0x0D))
                        self.pendingCR = true
                    default:
                        output.writeInteger(UInt8(0x0D))
                        output.writeInteger(byte)
                    }
                } else if byte == 0x0D {
                    self.pendingCR = true
                } else {
                    output.writeInteger(byte)
                }
            }
            return output
        }

        /// Ends the stream: a CR left at the very end is kept as it is.
        public mutating func finish() -> ByteBuffer {
            defer { self.pendingCR = false }
            return self.pendingCR ? ByteBuffer(bytes: [0x0D]) : ByteBuffer()
        }
    }
}
