import Foundation

/// A VM's serial console log, read while QEMU appends to it (`-serial file:`).
///
/// Matching is done on text cleaned of ANSI escape sequences, backspaces and carriage returns, line by line.
public struct SerialConsole: Sendable {
    public let path: String
    public let machine: String

    public init(path: String, machine: String) {
        self.path = path
        self.machine = machine
    }

    /// A line that matched, where, and how long the wait took.
    public struct Match: Sendable, Equatable {
        public var line: String
        /// Byte offset in the log just after the matching line; pass it to a later wait to skip what was seen.
        public var endOffset: UInt64
        public var waited: Duration
    }

    /// The pattern did not appear in time; `tail` is the end of the log, as evidence.
    public struct Timeout: Error, Sendable, CustomStringConvertible {
        public var machine: String
        public var path: String
        public var pattern: String
        public var waited: Duration
        public var tail: String
        public var description: String {
            "\(machine): no line matching /\(pattern)/ on the serial console (\(path)) after \(waited); last lines:\n"
                + tail
        }
    }

    /// The log's current size: waits after an action start from here so earlier boots do not match.
    public func currentOffset() -> UInt64 {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value
        return size ?? 0
    }

    /// Waits until a line after `offset` matches the regular expression `pattern`, or throws ``Timeout``.
    public func waitFor(
        _ pattern: String, after offset: UInt64 = 0, deadline: Duration, pollInterval: Duration = .milliseconds(200)
    ) async throws -> Match {
        let regex = try NSRegularExpression(pattern: pattern)
        let clock = ContinuousClock()
        let start = clock.now
        while true {
            if let match = scan(regex, after: offset) {
                return Match(line: match.line, endOffset: match.end, waited: clock.now - start)
            }
            if clock.now - start >= deadline {
                throw Timeout(
                    machine: machine, path: path, pattern: pattern, waited: clock.now - start, tail: tail(lines: 15))
            }
            try await Task.sleep(for: pollInterval)
        }
    }

    /// The last `lines` cleaned lines of the log.
    public func tail(lines: Int = 20) -> String {
        let data = FileManager.default.contents(atPath: path) ?? Data()
        return Self.cleanLines(data).suffix(lines).map(\.text).joined(separator: "\n")
    }

    private func scan(_ regex: NSRegularExpression, after offset: UInt64) -> (line: String, end: UInt64)? {
        guard let data = FileManager.default.contents(atPath: path), UInt64(data.count) > offset else { return nil }
        for line in Self.cleanLines(data.suffix(from: Int(offset))) {
            let range = NSRange(line.text.startIndex..., in: line.text)
            if regex.firstMatch(in: line.text, range: range) != nil { return (line.text, offset + line.end) }
        }
        return nil
    }

    /// Splits raw console bytes into lines without escape sequences; `end` is each line's end offset in `data`.
    static func cleanLines(_ data: Data) -> [(text: String, end: UInt64)] {
        var result: [(String, UInt64)] = []
        var current: [UInt8] = []
        var escape = 0  // 0 none, 1 after ESC, 2 inside CSI
        var position: UInt64 = 0
        func flush() {
            let text = String(decoding: current, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            if !text.isEmpty { result.append((text, position)) }
            current.removeAll()
        }
        for byte in data {
            position += 1
            switch (escape, byte) {
            case (0, 0x1b): escape = 1
            case (1, UInt8(ascii: "[")): escape = 2
            case (1, _): escape = 0  // two-byte sequence such as ESC c
            case (2, 0x40...0x7e): escape = 0  // CSI final byte
            case (2, _): break
            case (_, 0x08): if !current.isEmpty { current.removeLast() }
            case (_, UInt8(ascii: "\n")), (_, UInt8(ascii: "\r")): flush()
            case (_, 0x20...0x7e), (_, 0x80...0xff), (_, 0x09): current.append(byte)
            default: break
            }
        }
        flush()
        return result
    }
}
