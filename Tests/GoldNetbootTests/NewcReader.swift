import Foundation
import GoldSpawn

@testable import GoldNetboot

/// An independent newc reader for the tests: parses what the writer wrote, checking magic and padding.
struct NewcReader {
    struct Entry: Equatable {
        var name: String
        var mode: UInt32
        var mtime: UInt32
        var rdevMajor: UInt32
        var rdevMinor: UInt32
        var data: [UInt8]
        var text: String { String(decoding: data, as: UTF8.self) }
    }

    enum Failure: Error {
        case badMagic(Int)
        case badHex(Int)
        case truncated(Int)
        case noTrailer
    }

    static func parse(_ bytes: [UInt8]) throws -> [Entry] {
        var offset = 0
        var entries: [Entry] = []
        func field(_ index: Int) throws -> UInt32 {
            let start = offset + 6 + index * 8
            guard start + 8 <= bytes.count else { throw Failure.truncated(offset) }
            guard let value = UInt32(String(decoding: bytes[start..<start + 8], as: UTF8.self), radix: 16) else {
                throw Failure.badHex(start)
            }
            return value
        }
        while offset + 110 <= bytes.count {
            guard String(decoding: bytes[offset..<offset + 6], as: UTF8.self) == "070701" else {
                throw Failure.badMagic(offset)
            }
            let mode = try field(1)
            let mtime = try field(5)
            let size = Int(try field(6))
            let rdevMajor = try field(9)
            let rdevMinor = try field(10)
            let nameSize = Int(try field(11))
            let nameStart = offset + 110
            guard nameStart + nameSize <= bytes.count, nameSize > 0, bytes[nameStart + nameSize - 1] == 0 else {
                throw Failure.truncated(offset)
            }
            let name = String(decoding: bytes[nameStart..<nameStart + nameSize - 1], as: UTF8.self)
            var dataStart = nameStart + nameSize
            dataStart += (4 - dataStart % 4) % 4
            guard dataStart + size <= bytes.count else { throw Failure.truncated(offset) }
            if name == "TRAILER!!!" { return entries }
            entries.append(
                Entry(
                    name: name, mode: mode, mtime: mtime, rdevMajor: rdevMajor, rdevMinor: rdevMinor,
                    data: Array(bytes[dataStart..<dataStart + size])))
            offset = dataStart + size
            offset += (4 - offset % 4) % 4
        }
        throw Failure.noTrailer
    }
}

/// A scratch directory removed when the test ends.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("gold-netboot-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ relative: String, _ text: String, executable: Bool = false) throws {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: full) }
    }
}

/// Fails with the Debian package to install when a tool the test needs is missing.
func requireTool(_ name: String, package: String) throws -> String {
    guard let path = SystemRunner.locate(name) else {
        throw NetbootError(.missingTool, "this test needs \(name): apt-get install \(package)")
    }
    return path
}
