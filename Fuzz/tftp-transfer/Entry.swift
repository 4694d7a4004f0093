// SwiftPM renames an executable's entry point to `fuzz_tftp_transfer_main` in debug builds (for testable
// executables) and links `main` to it, so libFuzzer's own `main` is not used: hand over to its driver here.
// In release builds the symbol is unused and libFuzzer's `main` runs; the behaviour is the same.

@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ testOneInput: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("fuzz_tftp_transfer_main")
public func fuzzerMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    var argc = argc
    var argv = argv
    return runDriver(&argc, &argv, { data, size in fuzz(data, size) })
}
