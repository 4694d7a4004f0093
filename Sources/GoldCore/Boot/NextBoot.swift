/// What a machine boots into the next time its firmware asks the network.
public enum NextBoot: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Boot from local disk (the netboot server tells iPXE/pxelinux/GRUB to hand back to the firmware).
    case disk
    /// Boot the netboot environment once; the agent's check-in from it turns this back into `.disk`,
    /// so a machine never loops back into an installer.
    case netbootOnce(NetbootMode)
    /// Boot the netboot environment every time (rescue, or a machine kept in discovery).
    case netboot(NetbootMode)

    public init?(_ text: String) {
        if text == "disk" {
            self = .disk
            return
        }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let mode = NetbootMode(rawValue: String(parts[1])) else { return nil }
        switch parts[0] {
        case "once": self = .netbootOnce(mode)
        case "always": self = .netboot(mode)
        default: return nil
        }
    }

    /// `disk`, `once:deploy`, `always:rescue`: how the store and the API write it.
    public var description: String {
        switch self {
        case .disk: "disk"
        case .netbootOnce(let mode): "once:\(mode.rawValue)"
        case .netboot(let mode): "always:\(mode.rawValue)"
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = NextBoot(text) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription:
                        "'\(text)' is not a next boot; use disk, once:MODE or always:MODE (MODE: deploy, rescue, discovery)"
                ))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Why a machine is in the netboot environment.
public enum NetbootMode: String, Hashable, Sendable, Codable, CaseIterable {
    /// Gold will write an image or install files.
    case deploy
    /// A person or a workflow collects logs and repairs.
    case rescue
    /// An unknown machine reports its hardware.
    case discovery
}
