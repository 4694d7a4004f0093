import NIOCore

/// The bookkeeping of the file cache as a value: contents by key, within a byte budget, least recently used
/// evicted first. No I/O and no locking; ``TFTPFileCache`` wraps it.
struct TFTPFileCacheIndex: Sendable {
    private struct Entry: Sendable {
        var bytes: ByteBuffer
        var lastUse: UInt64
    }

    /// Most bytes of contents kept.
    let budget: Int
    /// Bytes of contents kept now.
    private(set) var usedBytes = 0
    private var entries: [TFTPFileKey: Entry] = [:]
    private var useCounter: UInt64 = 0

    init(budget: Int) {
        self.budget = max(0, budget)
    }

    /// Files kept now.
    var count: Int { self.entries.count }

    /// True if contents of `size` bytes may be kept at all.
    func fits(size: Int) -> Bool {
        size > 0 && size <= self.budget
    }

    /// True if `key` is kept (does not count as a use).
    func contains(_ key: TFTPFileKey) -> Bool {
        self.entries[key] != nil
    }

    /// The contents kept for `key`, marking them most recently used.
    mutating func lookup(_ key: TFTPFileKey) -> ByteBuffer? {
        guard var entry = self.entries[key] else { return nil }
        self.useCounter += 1
        entry.lastUse = self.useCounter
        self.entries[key] = entry
        return entry.bytes
    }

    /// Keeps `bytes` for `key`, evicting the least recently used files until they fit; returns the evicted keys.
    /// Contents larger than the budget (or empty) are not kept and evict nothing.
    @discardableResult
    mutating func insert(_ key: TFTPFileKey, _ bytes: ByteBuffer) -> [TFTPFileKey] {
        let size = bytes.readableBytes
        guard self.fits(size: size) else { return [] }
        if let old = self.entries.removeValue(forKey: key) {
            self.usedBytes -= old.bytes.readableBytes
        }
        var evicted: [TFTPFileKey] = []
        while self.usedBytes + size > self.budget,
            let oldest = self.entries.min(by: { $0.value.lastUse < $1.value.lastUse })
        {
            self.entries[oldest.key] = nil
            self.usedBytes -= oldest.value.bytes.readableBytes
            evicted.append(oldest.key)
        }
        self.useCounter += 1
        self.entries[key] = Entry(bytes: bytes, lastUse: self.useCounter)
        self.usedBytes += size
        return evicted
    }
}
