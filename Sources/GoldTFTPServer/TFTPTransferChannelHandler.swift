import NIOCore

/// The handler of an ephemeral per-transfer channel: hands the client's datagrams to the driver.
///
/// The channel is connected to the client, so the kernel drops datagrams from any other address/port.
final class TFTPTransferChannelHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    var driver: TFTPTransferDriver?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.driver?.receive(Self.unwrapInboundIn(data).data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable surfaces here as ECONNREFUSED on a connected socket; the retransmission timer
        // decides when the client is gone, so nothing to do.
    }
}
