import GoldCore

/// libFuzzer entry: the bytes as a fleet file, a gold.yaml and a kernel spec (`gold kernel upgrade --kernel`), through
/// the same parse and validation the director runs on an API body. Errors are the expected outcome for bad input; a
/// trap, a hang or unbounded memory is a bug (libFuzzer's -timeout and -rss_limit_mb catch the last two).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let fleet = try? FleetParser.parse(yaml: text) {
        // A fleet that parses is valid by construction: validating again finds nothing, and it plans against itself.
        precondition(FleetValidator.validate(fleet).isEmpty, "a parsed fleet does not validate")
    }
    _ = try? ServerConfig.parse(yaml: text)
    _ = try? FleetParser.parseKernel(yaml: text)
    return 0
}
