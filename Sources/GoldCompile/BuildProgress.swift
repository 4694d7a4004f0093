import Foundation

/// How far a kernel build is: the objects kbuild reports as built (`  CC      kernel/fork.o`), against the count
/// the last build of the same source and configuration reported, with an estimate of the time left.
///
/// A value fed the build log in chunks as it grows; a line split across two chunks is counted once.
public struct BuildProgress: Sendable, Hashable {
    /// Objects reported so far.
    public private(set) var built = 0
    /// What the last build of the same inputs reported, if there was one.
    public var expected: BuildHistory.Entry?
    private var partial: [UInt8] = []
    private var firstObjectAt: Double?

    public init(expected: BuildHistory.Entry? = nil) { self.expected = expected }

    /// Counts the complete lines in `chunk`; `now` is seconds on any steady clock.
    public mutating func feed(_ chunk: some Sequence<UInt8>, now: Double) {
        for byte in chunk {
            if byte == UInt8(ascii: "\n") {
                if Self.isObjectLine(partial) {
                    built += 1
                    if firstObjectAt == nil { firstObjectAt = now }
                }
                partial.removeAll(keepingCapacity: true)
            } else if partial.count < 512 {
                partial.append(byte)
            }
        }
    }

    /// kbuild's quiet output: two spaces, a tag in capitals (`CC`, `LD`, `AR`, `HOSTCC`, `CC [M]`), blanks, a path.
    static func isObjectLine(_ line: [UInt8]) -> Bool {
        guard line.count > 4, line[0] == UInt8(ascii: " "), line[1] == UInt8(ascii: " ") else { return false }
        var index = 2
        var tag = 0
        while index < line.count,
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(line[index]) || line[index] == UInt8(ascii: "_")
        {
            index += 1
            tag += 1
        }
        guard (2...10).contains(tag) else { return false }
        // `CC [M]` for a module object.
        if index + 3 < line.count, line[index] == UInt8(ascii: " "), line[index + 1] == UInt8(ascii: "["),
            line[index + 3] == UInt8(ascii: "]")
        {
            index += 4
        }
        var blanks = 0
        while index < line.count, line[index] == UInt8(ascii: " ") {
            index += 1
            blanks += 1
        }
        return blanks >= 1 && index < line.count
    }

    /// The share done, when an earlier build says how many objects to expect (never 1 before the build ends).
    public var fraction: Double? {
        guard let expected, expected.objects > 0 else { return nil }
        return min(0.99, Double(built) / Double(expected.objects))
    }

    /// Seconds left: from this build's own pace once 5% is done, else from how long the last one took.
    public func secondsLeft(now: Double) -> Double? {
        guard let fraction, let expected else { return nil }
        if fraction >= 0.05, let start = firstObjectAt, now > start {
            return (now - start) * (1 - fraction) / fraction
        }
        return expected.seconds * (1 - fraction)
    }

    /// The progress line the worker appends to the job's log: `gold-compile: progress 812/1650 objects (49%), about 3m20s left`.
    public func line(now: Double) -> String {
        guard let expected, let fraction else {
            return
                "gold-compile: progress \(built) objects built (no earlier build of this source to estimate the total from)"
        }
        var text = "gold-compile: progress \(built)/\(expected.objects) objects (\(Int(fraction * 100))%)"
        if let left = secondsLeft(now: now) { text += ", about \(Self.duration(left)) left" }
        return text
    }

    /// Reads a progress line back (the director's view of a job): objects built and expected, or nil.
    public static func parse(_ line: Substring) -> (built: Int, expected: Int?)? {
        guard let range = line.range(of: "gold-compile: progress ") else { return nil }
        let words = line[range.upperBound...].split(separator: " ", maxSplits: 1)
        guard let counts = words.first else { return nil }
        let parts = counts.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let built = Int(parts[0]), built >= 0 else { return nil }
        if parts.count == 2 {
            guard let expected = Int(parts[1]), expected > 0 else { return nil }
            return (built, expected)
        }
        return (built, nil)
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total)s" }
        return "\(total / 60)m\(String(format: "%02d", total % 60))s"
    }
}

/// What earlier kernel builds on this worker reported, by source and configuration, for the next one's estimate
/// (`WORK/history.json`).
public struct BuildHistory: Sendable, Codable, Hashable {
    public struct Entry: Sendable, Codable, Hashable {
        public var objects: Int
        /// From the first object to the end of the build.
        public var seconds: Double
        public var at: Date

        public init(objects: Int, seconds: Double, at: Date) {
            self.objects = objects
            self.seconds = seconds
            self.at = at
        }
    }
    public var entries: [String: Entry] = [:]

    public init() {}

    /// The key of a kernel build's inputs that decide how much is compiled: the source and the configuration.
    public static func key(_ inputs: KernelInputs) -> String {
        Hashing.sha256(
            Data(
                (["source \(inputs.source.identity)", "base \(inputs.baseIdentity)"] + inputs.fragments).joined(
                    separator: "\n"
                ).utf8))
    }

    /// The same inputs' last build, else the newest build of the same source (a different configuration of the same
    /// kernel is a fair estimate).
    public func expected(for inputs: KernelInputs) -> Entry? {
        entries[Self.key(inputs)] ?? entries[inputs.source.identity + " latest"]
    }

    public mutating func record(_ inputs: KernelInputs, _ entry: Entry) {
        entries[Self.key(inputs)] = entry
        entries[inputs.source.identity + " latest"] = entry
        // Bounded: the 64 newest.
        if entries.count > 64 {
            for key in entries.sorted(by: { $0.value.at < $1.value.at }).prefix(entries.count - 64).map(\.key) {
                entries[key] = nil
            }
        }
    }

    public static func load(_ path: String) -> BuildHistory {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let data = FileManager.default.contents(atPath: path),
            let history = try? decoder.decode(BuildHistory.self, from: data)
        else { return BuildHistory() }
        return history
    }

    public func save(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(self)
        let temporary = path + ".tmp"
        try data.write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else {
            throw CompileError(.io, "cannot rename \(temporary) to \(path): errno \(errno)")
        }
    }
}
