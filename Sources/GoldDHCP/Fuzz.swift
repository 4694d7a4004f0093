import NIOCore

/// Fuzzing entry: parses `bytes`; when they parse, encodes and parses again and traps unless the second
/// parse equals the first. Any other trap is a bug in the codec.
public func fuzzParse(_ bytes: [UInt8]) {
    guard let first = try? DHCPMessage(parsing: bytes) else { return }
    let second: DHCPMessage
    do {
        second = try DHCPMessage(parsing: first.encoded())
    } catch {
        preconditionFailure("re-encoded message does not parse: \(error)")
    }
    precondition(first == second, "round-trip changed the message:\n\(first)\n\(second)")
}
