import Foundation

/// A temporary TFTP root with files of the interesting sizes; removed by `remove()`.
struct TestRoot {
    let url: URL
    static let sizes = [0, 511, 512, 513, 1 << 20, 65536 * 512 + 1]

    static func name(_ size: Int) -> String { "file-\(size).bin" }

    init(sizes: [Int] = TestRoot.sizes) throws {
        self.url = FileManager.default.temporaryDirectory.appendingPathComponent("gold-tftp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: self.url.appendingPathComponent("root"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: self.url.appendingPathComponent("out"), withIntermediateDirectories: true)
        for size in sizes {
            try Self.content(size).write(to: self.root.appendingPathComponent(Self.name(size)))
        }
    }

    var root: URL { self.url.appendingPathComponent("root") }

    func output(_ name: String) -> URL { self.url.appendingPathComponent("out").appendingPathComponent(name) }

    /// Deterministic, non-repeating-per-block content so a misplaced block is caught.
    static func content(_ size: Int) -> Data {
        var bytes = [UInt8](repeating: 0, count: size)
        var state: UInt64 = UInt64(size) &* 0x9E37_79B9_7F4A_7C15 | 1
        for index in 0..<size {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            bytes[index] = UInt8(truncatingIfNeeded: state)
        }
        return Data(bytes)
    }

    func remove() { try? FileManager.default.removeItem(at: self.url) }
}
