import GoldRange

/// libFuzzer entry: the bytes as an HTTP `Range` header (and the first eight as the representation's length),
/// through the parser the image server uses. A partial range must lie inside the representation and be
/// non-empty; a length of 0 is never partial; a header that does not start with `bytes=` is `.whole`. A trap is a
/// bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var length: UInt64 = 0
    for byte in bytes.prefix(8) { length = length << 8 | UInt64(byte) }
    // Small lengths matter most (0, 1, block-sized); the top bit picks a full 64-bit one.
    if length >> 63 == 0 { length %= 70_000 }
    let header = String(decoding: bytes.dropFirst(8), as: UTF8.self)
    let range = ByteRange.parse(header, length: length)
    if !header.lowercased().drop(while: \.isWhitespace).hasPrefix("bytes=") {
        precondition(range == .whole, "a header without the bytes unit gave \(range)")
    }
    switch range {
    case .partial(let lower, let upper):
        precondition(length > 0, "a partial range of an empty representation")
        precondition(lower <= upper, "an empty or inverted range \(lower)-\(upper)")
        precondition(upper < length, "range \(lower)-\(upper) past length \(length)")
    case .whole, .unsatisfiable:
        break
    }
    _ = ByteRange.parse(nil, length: length)
    return 0
}
