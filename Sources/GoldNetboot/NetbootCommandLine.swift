/// The kernel command line a machine boots the netboot environment with; `/init` and `gold-agent` read it.
public struct NetbootCommandLine: Sendable, Equatable {
    /// What the director wants from this boot (`gold.mode=`).
    public enum Mode: String, Sendable, CaseIterable {
        case deploy, rescue, discovery
    }

    public var director: String
    public var machine: String
    public var token: String
    public var mode: Mode
    /// The MAC the machine booted from; rendered as iPXE's `BOOTIF=01-aa-bb-cc-dd-ee-ff` (01 = Ethernet, RFC 1700 hardware type).
    public var bootMAC: String?
    public var console: String
    /// `gold.debug=1`: `/init` opens a shell on the console after checking in.
    public var debug: Bool
    /// `initrd=NAME`: iPXE needs it under UEFI to hand the initrd to the kernel.
    public var initrdName: String?

    public init(
        director: String, machine: String, token: String, mode: Mode, bootMAC: String? = nil,
        console: String = "ttyS0,115200", debug: Bool = false, initrdName: String? = nil
    ) {
        self.director = director
        self.machine = machine
        self.token = token
        self.mode = mode
        self.bootMAC = bootMAC
        self.console = console
        self.debug = debug
        self.initrdName = initrdName
    }

    /// `console=ttyS0,115200 gold.director=URL gold.machine=NAME gold.token=TOKEN gold.mode=deploy BOOTIF=01-…`.
    public func render() throws -> String {
        guard director.hasPrefix("http://") || director.hasPrefix("https://") else {
            throw NetbootError(.badInput, "gold.director must be an http:// or https:// URL, not '\(director)'")
        }
        var words: [String] = []
        if let initrdName { words.append("initrd=" + (try Self.checked(initrdName, field: "initrd"))) }
        words.append("console=" + (try Self.checked(console, field: "console")))
        words.append("gold.director=" + (try Self.checked(director, field: "gold.director")))
        words.append("gold.machine=" + (try Self.checked(machine, field: "gold.machine")))
        words.append("gold.token=" + (try Self.checked(token, field: "gold.token")))
        words.append("gold.mode=" + mode.rawValue)
        if let bootMAC { words.append("BOOTIF=01-" + (try Self.bootIF(bootMAC))) }
        if debug { words.append("gold.debug=1") }
        return words.joined(separator: " ")
    }

    /// `52:54:00:12:34:56` (or with dashes) → `52-54-00-12-34-56`.
    static func bootIF(_ mac: String) throws -> String {
        let octets = mac.split(whereSeparator: { $0 == ":" || $0 == "-" })
        guard octets.count == 6, octets.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isHexDigit) }) else {
            throw NetbootError(.badInput, "boot MAC '\(mac)' is not six hex octets")
        }
        return octets.map { $0.lowercased() }.joined(separator: "-")
    }

    /// The kernel splits its command line at spaces and treats quotes specially: a value holds neither.
    static func checked(_ value: String, field: String) throws -> String {
        guard !value.isEmpty else { throw NetbootError(.badInput, "\(field) is empty") }
        guard value.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f && $0 != "\"" }) else {
            throw NetbootError(
                .badInput,
                "\(field) '\(value)' holds a space, quote or non-ASCII character; the kernel command line cannot carry it"
            )
        }
        return value
    }
}
