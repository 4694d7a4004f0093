/// Persists bound leases so they survive a restart. The director provides the SQLite implementation.
public protocol LeaseStore: Sendable {
    /// Every stored lease, read once at start.
    func loadLeases() async throws -> [Lease]
    /// Applies changes in order, atomically where the store can.
    func apply(_ changes: [LeaseChange]) async throws
}

/// A lease store in memory, for tests and for running without a database.
public actor InMemoryLeaseStore: LeaseStore {
    private var leases: [MACAddress: Lease]

    /// A store holding `leases`.
    public init(leases: [Lease] = []) {
        self.leases = Dictionary(leases.map { ($0.mac, $0) }, uniquingKeysWith: { _, last in last })
    }

    public func loadLeases() -> [Lease] {
        leases.values.sorted { $0.mac < $1.mac }
    }

    public func apply(_ changes: [LeaseChange]) {
        for change in changes {
            switch change {
            case .save(let lease): leases[lease.mac] = lease
            case .remove(let mac): leases[mac] = nil
            }
        }
    }
}
