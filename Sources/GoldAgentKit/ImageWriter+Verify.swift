import Crypto
import Foundation
import GoldImage

extension ImageWriter {
    /// How the disk is checked.
    ///
    /// With either, every chunk of the disk is checked once its final bytes are in place: a chunk the writer wrote is
    /// read back right after the write and compared byte for byte with the bytes it wrote (whose SHA-256 it verified
    /// against the manifest first), or with zeros; a chunk it left alone is one whose bytes it read and hashed to
    /// the manifest's hash, or found all zeros (or a hole), when it compared the disk with the image. Every write
    /// covers exactly its own chunk's range, so no later write can undo an earlier check: a write that went astray
    /// leaves its own chunk wrong, and that chunk's check fails. The reads see the page cache, not the medium.
    public enum Verification: String, Sendable, CaseIterable {
        /// Each chunk as above, and nothing more. The manifest's chunk list and its image SHA-256 are computed in one
        /// pass over the same bytes when a version is stored (``ImageStore``), so a disk that passes hashes to the
        /// image's SHA-256 unless SHA-256 has a collision, but the image's SHA-256 itself is not checked. Opt-in
        /// (`gold-agent write-image --verify chunks`); the agent never uses it.
        case chunks
        /// As `chunks`, and the whole disk range, in order, through one SHA-256 compared with the manifest's `sha256`
        /// at the end: the bytes read when a chunk was compared (or zeros for a hole), or read back after its write.
        /// The hash runs on a task of its own while the writer goes on (one serial SHA-256 over the whole disk,
        /// ~2 GB/s on one core with SHA-NI: ~2 s for 4 GiB, zeros included). The default, and what the agent uses.
        case image
    }
}
