/// A lock for async code: one holder at a time, in arrival order. Workflow transitions take it so that no two
/// events are reduced on the same stored state.
actor SerialLock {
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        if held {
            await withCheckedContinuation { waiters.append($0) }
        } else {
            held = true
        }
        defer {
            if waiters.isEmpty { held = false } else { waiters.removeFirst().resume() }
        }
        return try await body()
    }
}

/// One `SerialLock` per key: transitions of one workflow take turns in arrival order, while different workflows' do
/// not wait for each other (one lock for all made every transition of 1,000 workflows in flight queue behind the others).
actor KeyedSerialLock {
    private var locks: [String: (lock: SerialLock, users: Int)] = [:]

    func withLock<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async rethrows -> T {
        let lock = locks[key]?.lock ?? SerialLock()
        locks[key] = (lock, (locks[key]?.users ?? 0) + 1)
        defer {
            if let entry = locks[key] {
                locks[key] = entry.users > 1 ? (entry.lock, entry.users - 1) : nil
            }
        }
        return try await lock.withLock(body)
    }

    /// Keys with a holder or a waiter (for tests: nothing is kept for a workflow once its transitions are done).
    var keysInUse: Int { locks.count }
}
