import GoldDHCP
import NIOCore
import Testing

@Suite("malformed input")
struct MalformedInputTests {
    static let valid = Fixtures.ovmfDiscover

    static func replacing(_ range: Range<Int>, with bytes: [UInt8]) -> [UInt8] {
        var copy = valid
        copy.replaceSubrange(range, with: bytes)
        return copy
    }

    @Test(
        "structural damage throws an error naming the field",
        arguments: [
            ([UInt8](), "op", DHCPParseError.Code.truncated),
            (Array(valid.prefix(3)), "hops", .truncated),
            (Array(valid.prefix(26)), "giaddr", .truncated),
            (Array(valid.prefix(200)), "file", .truncated),
            (Array(valid.prefix(238)), "magic cookie", .truncated),
            (replacing(236..<240, with: [99, 130, 83, 98]), "magic cookie", .badMagicCookie),
            (replacing(2..<3, with: [17]), "hlen", .badHardwareLength),
            (replacing(2..<3, with: [255]), "hlen", .badHardwareLength),
            (Array(valid.prefix(240)) + [53, 1], "option 53", .optionOverrun),
            (Array(valid.prefix(240)) + [53], "option 53", .optionOverrun),
            (Array(valid.prefix(240)) + [60, 40] + Array("PXEClient".utf8), "option 60", .optionOverrun),
        ])
    func structural(bytes: [UInt8], field: String, code: DHCPParseError.Code) {
        #expect {
            try DHCPMessage(parsing: bytes)
        } throws: { error in
            guard let error = error as? DHCPParseError else { return false }
            return error.field == field && error.code == code && error.description.contains(field)
        }
    }

    @Test("an overloaded file field with a bad option throws")
    func overloadedFileOverrun() {
        var bytes = Fixtures.request(xid: 1, mac: Fixtures.qemuMAC, options: [Fixtures.option(52, [1])])
        bytes.replaceSubrange(108 + 126..<108 + 128, with: [12, 9])
        #expect(throws: DHCPParseError.self) { try DHCPMessage(parsing: bytes) }
    }

    /// Found by Fuzz/dhcp: option 52 split in two instances (empty, then [1]) was kept as overload(1) but the
    /// file field was not read as options, so encoding and parsing again changed the message.
    @Test("a split overload option is joined before deciding to read the file field as options")
    func splitOverload() throws {
        var bytes = Fixtures.request(
            xid: 2, mac: Fixtures.qemuMAC, options: [Fixtures.option(52, []), Fixtures.option(52, [1])])
        bytes[108] = 5  // file field: option 5 with length 0, then pads
        let message = try DHCPMessage(parsing: bytes)
        #expect(message.file.isEmpty)
        #expect(message.option(5) != nil)
        #expect(try DHCPMessage(parsing: message.encoded()) == message)
        fuzzParse(bytes)
    }

    @Test("a message without END is accepted up to its last whole option")
    func missingEnd() throws {
        let bytes = Fixtures.request(xid: 5, mac: Fixtures.qemuMAC, options: [Fixtures.option(53, [1])], end: false)
        #expect(try DHCPMessage(parsing: bytes).messageType == .discover)
    }

    @Test("every truncation of every fixture throws or parses, never traps")
    func truncations() {
        for fixture in [Fixtures.seabiosIPXEDiscover, Fixtures.ovmfDiscover, Fixtures.pxeProxyRequest] {
            for length in 0...fixture.count {
                fuzzParse(Array(fixture.prefix(length)))
            }
        }
    }

    @Test("seeded random mutations keep the round trip stable")
    func mutations() {
        var random = SplitMix64(seed: 0x601D_DC9)
        let fixtures = [Fixtures.seabiosIPXEDiscover, Fixtures.ovmfDiscover, Fixtures.biosPXEDiscover]
        var parsed = 0
        for round in 0..<20_000 {
            var bytes = fixtures[round % fixtures.count]
            for _ in 0..<(1 + Int(random.next() % 4)) {
                // Mutate the option area more often than the header; it is where the parser branches.
                let index =
                    random.next() % 3 == 0
                    ? Int(random.next() % UInt64(bytes.count)) : 240 + Int(random.next() % UInt64(bytes.count - 240))
                bytes[index] = UInt8(truncatingIfNeeded: random.next())
            }
            if random.next() % 8 == 0 {
                bytes += (0..<Int(random.next() % 40)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            }
            fuzzParse(bytes)
            if (try? DHCPMessage(parsing: bytes)) != nil { parsed += 1 }
        }
        // Most mutations still parse, so the round-trip check above really ran.
        #expect(parsed > 5_000)
    }

    @Test("random datagrams never trap")
    func randomBytes() {
        var random = SplitMix64(seed: 42)
        for _ in 0..<5_000 {
            var bytes = Array(Self.valid.prefix(240))
            bytes += (0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            fuzzParse(bytes)
        }
        for length in [0, 1, 100, 239, 240, 241, 600] {
            fuzzParse((0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        }
    }
}

/// A small deterministic generator so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
