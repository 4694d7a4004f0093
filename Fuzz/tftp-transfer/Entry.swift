import FuzzSupport

/// The entry point SwiftPM links `main` to in debug builds (see FuzzSupport's Driver.swift).
@_cdecl("fuzz_tftp_transfer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzz(data, size) }
}
