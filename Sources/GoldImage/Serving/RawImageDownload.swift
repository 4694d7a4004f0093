import Crypto
import Foundation
import GoldCore

/// Writes a disk image fetched in ranges (`gold image export` from the director) to a sparse file, hashing it on
/// the way, and checks the result against the manifest's SHA-256. The zero ranges are never fetched.
public struct RawImageDownload: Sendable {
    /// A part of the image: bytes to fetch, or a hole to leave.
    public enum Piece: Hashable, Sendable {
        case data(offset: UInt64, length: UInt64)
        case zero(offset: UInt64, length: UInt64)
    }

    public var size: UInt64
    public var sha256: String
    public var zeroRanges: [ImageVersionDetail.ZeroRange]
    /// The longest range asked for at once; the director answers up to 16 MiB before it starts sending, so a corrupt
    /// chunk comes back as an error naming it.
    public var pieceSize: UInt64

    public init(size: UInt64, sha256: String, zeroRanges: [ImageVersionDetail.ZeroRange], pieceSize: UInt64 = 8 << 20) {
        self.size = size
        self.sha256 = sha256
        self.zeroRanges = zeroRanges
        self.pieceSize = max(pieceSize, 1)
    }

    public init(_ disk: ImageVersionDetail.Disk, pieceSize: UInt64 = 8 << 20) {
        self.init(size: disk.size, sha256: disk.sha256, zeroRanges: disk.zeroRanges, pieceSize: pieceSize)
    }

    /// Every byte of `0..<size` once, in order: holes where the zero ranges are, the rest in pieces of at most
    /// `pieceSize`. Zero ranges outside the image are clipped; overlapping ones merged. Pure.
    public var pieces: [Piece] {
        var out: [Piece] = []
        var position: UInt64 = 0
        func data(upTo end: UInt64) {
            while position < end {
                let length = min(pieceSize, end - position)
                out.append(.data(offset: position, length: length))
                position += length
            }
        }
        for range in zeroRanges.sorted(by: { $0.offset < $1.offset }) {
            let start = min(range.offset, size)
            let end = min(range.offset &+ range.length, size)
            guard end > max(start, position) else { continue }
            data(upTo: start)
            let from = max(start, position)
            if case .zero(let offset, let length)? = out.last, offset + length == from {
                out[out.count - 1] = .zero(offset: offset, length: end - offset)
            } else {
                out.append(.zero(offset: from, length: end - from))
            }
            position = end
        }
        data(upTo: size)
        return out
    }

    /// Fetches the data pieces with `fetch(first, last)` (inclusive bounds, like an HTTP Range), writes them to
    /// `url` (holes left unwritten, so the file is sparse) and checks the SHA-256. `progress` gets (done, total).
    /// On any failure the file is removed.
    public func write(
        to url: URL, fetch: (UInt64, UInt64) async throws -> Data, progress: (UInt64, UInt64) -> Void = { _, _ in }
    ) async throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil),
            let handle = FileHandle(forWritingAtPath: url.path)
        else { throw GoldError(.io, "cannot create \(url.path)", at: url.path) }
        var ok = false
        defer {
            try? handle.close()
            if !ok { try? FileManager.default.removeItem(at: url) }
        }
        var sha = SHA256()
        let zeros = Data(count: Int(min(pieceSize, 1 << 20)))
        var done: UInt64 = 0
        for piece in pieces {
            switch piece {
            case .zero(_, let length):
                var left = length
                while left > 0 {
                    let n = Int(min(left, UInt64(zeros.count)))
                    sha.update(data: zeros.prefix(n))
                    left -= UInt64(n)
                }
                done += length
            case .data(let offset, let length):
                let bytes = try await fetch(offset, offset + length - 1)
                guard bytes.count == length else {
                    throw GoldError(
                        .io,
                        "asked for bytes \(offset)-\(offset + length - 1) and got \(bytes.count) bytes, not \(length)",
                        at: url.path)
                }
                sha.update(data: bytes)
                try handle.seek(toOffset: offset)
                try handle.write(contentsOf: bytes)
                done += length
            }
            progress(done, size)
        }
        try handle.truncate(atOffset: size)
        try handle.synchronize()
        let digest = sha.finalize().hexString
        guard digest == sha256 else {
            throw GoldError(.io, "the exported image hashes to \(digest), its manifest says \(sha256)", at: url.path)
        }
        ok = true
    }
}
