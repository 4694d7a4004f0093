// SwiftPM renames an executable's entry point to `<module>_main` in debug builds (for testable executables) and
// links `main` to it, so libFuzzer's own `main` is not used: each target's Entry.swift defines that symbol and hands
// over to libFuzzer's driver through `runLibFuzzer`. In release builds the symbol is unused and libFuzzer's `main`
// runs; the behaviour is the same.

@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ testOneInput: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

/// Runs libFuzzer's driver with the program's arguments and the target's `LLVMFuzzerTestOneInput`.
public func runLibFuzzer(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ testOneInput: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt {
    var argc = argc
    var argv = argv
    return runDriver(&argc, &argv, testOneInput)
}

/// A fuzzer's bytes read front to back as a script of events; running out ends the script.
public struct FuzzScript {
    var bytes: [UInt8]
    var index = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public mutating func byte() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    public mutating func u16() -> UInt16 { UInt16(byte() ?? 0) << 8 | UInt16(byte() ?? 0) }

    public mutating func bytes(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, index + count)
        defer { index = end }
        return Array(bytes[index..<end])
    }
}
