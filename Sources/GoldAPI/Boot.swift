/// A file a machine fetched from a boot server (TFTP or HTTP), as the deploy server reports it to the director in
/// batches (`POST /v1/boot/fetches`).
public struct BootFetch: Codable, Sendable, Hashable {
    public var mac: String?
    public var address: String
    public var file: String
    public var protocolName: String
    public var bytes: Int
    public var outcome: String
    public var durationMilliseconds: Int

    public init(
        mac: String?, address: String, file: String, protocolName: String, bytes: Int, outcome: String,
        durationMilliseconds: Int
    ) {
        self.mac = mac
        self.address = address
        self.file = file
        self.protocolName = protocolName
        self.bytes = bytes
        self.outcome = outcome
        self.durationMilliseconds = durationMilliseconds
    }
}
