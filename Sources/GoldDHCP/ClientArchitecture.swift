/// A client system architecture type from option 93 (RFC 4578 §2.1, IANA "Processor Architecture Types").
public struct ClientArchitecture: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// 0: Intel x86PC, a legacy BIOS PXE ROM.
    public static let x86BIOS = ClientArchitecture(rawValue: 0)
    /// 6: EFI IA32.
    public static let efiIA32 = ClientArchitecture(rawValue: 6)
    /// 7: EFI BC; in practice what x64 UEFI firmware (OVMF among others) sends.
    public static let efiBC = ClientArchitecture(rawValue: 7)
    /// 9: EFI x86-64.
    public static let efiX64 = ClientArchitecture(rawValue: 9)
    /// 11: ARM 64-bit UEFI.
    public static let efiARM64 = ClientArchitecture(rawValue: 11)
    /// 16: x86-64 UEFI HTTP boot (RFC 4578 registry, UEFI 2.5 §24.7).
    public static let efiX64HTTP = ClientArchitecture(rawValue: 16)

    /// True for the types whose firmware loads an x86-64 EFI binary.
    public var isEFIx64: Bool { self == .efiBC || self == .efiX64 || self == .efiX64HTTP }

    /// True for UEFI HTTP boot clients, which want a URL as the boot file.
    public var isHTTPBoot: Bool { self == .efiX64HTTP || rawValue == 15 || rawValue == 19 }

    public var description: String {
        switch self {
        case .x86BIOS: "BIOS x86"
        case .efiIA32: "EFI IA32"
        case .efiBC: "EFI BC (x64)"
        case .efiX64: "EFI x86-64"
        case .efiARM64: "EFI ARM64"
        case .efiX64HTTP: "EFI x86-64 HTTP"
        default: "arch \(rawValue)"
        }
    }

    /// Reads the architecture out of a PXE vendor class such as `PXEClient:Arch:00007:UNDI:003016`
    /// (PXE 2.1 §2.4.1 / RFC 4578 §2.1); nil when the string carries none.
    public init?(vendorClass: String) {
        let fields = vendorClass.split(separator: ":")
        guard let index = fields.firstIndex(of: "Arch"), fields.index(after: index) < fields.endIndex else {
            return nil
        }
        let digits = fields[fields.index(after: index)]
        guard digits.count == 5, let value = UInt16(digits) else { return nil }
        self.init(rawValue: value)
    }
}
