import GoldTFTP
import NIOCore

/// libFuzzer entry: parses the bytes as a TFTP datagram; a packet that parses must encode and parse back to
/// itself. Requests also go through option negotiation and path confinement, as the listener does.
/// Errors thrown for bad input are the expected outcome; a trap is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buffer = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    guard let packet = try? TFTPPacket.parse(buffer) else { return 0 }
    let encoded = packet.encoded()
    let again: TFTPPacket
    do {
        again = try TFTPPacket.parse(encoded)
    } catch {
        fatalError("re-encoded packet does not parse: \(error)\n\(packet)")
    }
    precondition(again == packet, "round-trip changed the packet:\n\(packet)\n\(again)")
    if case .readRequest(let request) = packet {
        _ = try? TFTPPath.confine(request.filename)
        for policy in [TFTPOptionPolicy(), TFTPOptionPolicy(maxBlockSize: 65464, maxWindowSize: 65535)] {
            _ = try? TFTPNegotiatedOptions.negotiate(request, policy: policy, fileSize: size)
        }
    }
    return 0
}
