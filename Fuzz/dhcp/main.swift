import GoldDHCP

/// libFuzzer entry: GoldDHCP's own fuzzing hook (parse; a message that parses must encode and parse back to
/// itself), then the option accessors a responder reads. A trap is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    fuzzParse(bytes)
    if let message = try? DHCPMessage(parsing: bytes) {
        _ = message.messageType
        _ = message.serverIdentifier
        _ = message.requestedIPAddress
        _ = message.vendorClass
        _ = message.hostName
        _ = message.parameterRequestList
        _ = message.clientArchitecture
        _ = message.clientUUID
        _ = message.isIPXE
    }
    return 0
}
