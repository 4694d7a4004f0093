import Foundation
import GoldDHCP
import Testing

@Suite("lease table")
struct LeaseTableTests {
    static let a = MACAddress([2, 0, 0, 0, 0, 1])
    static let b = MACAddress([2, 0, 0, 0, 0, 2])
    static let t0 = Date(timeIntervalSince1970: 1_000)
    static let pool = IPv4Address(10, 0, 0, 10)...IPv4Address(10, 0, 0, 12)

    @Test("bind, lookup and expiry at the exact second")
    func bindAndExpire() {
        var table = LeaseTable()
        let address = IPv4Address(10, 0, 0, 10)
        #expect(table.bind(address, to: Self.a, until: Self.t0 + 10, hostName: nil).count == 1)
        #expect(table.holder(of: address, now: Self.t0 + 9) == Self.a)
        #expect(table.holder(of: address, now: Self.t0 + 10) == nil)
        #expect(!table.isAvailable(address, for: Self.b, now: Self.t0))
        #expect(table.isAvailable(address, for: Self.a, now: Self.t0))
        #expect(table.expire(now: Self.t0 + 10) == [.remove(Self.a)])
        #expect(table.leases.isEmpty)
    }

    @Test("free address skips held, excluded and declined addresses; nil when full")
    func freeAddress() {
        var table = LeaseTable()
        _ = table.bind(IPv4Address(10, 0, 0, 10), to: Self.a, until: Self.t0 + 100, hostName: nil)
        // A DECLINE of an address the machine does not hold changes nothing (spoofed ones once filled the table).
        #expect(table.decline(IPv4Address(10, 0, 0, 11), by: Self.b, until: Self.t0 + 50).isEmpty)
        #expect(table.freeAddress(in: Self.pool, for: Self.b, excluding: [], now: Self.t0) == IPv4Address(10, 0, 0, 11))
        _ = table.bind(IPv4Address(10, 0, 0, 11), to: Self.b, until: Self.t0 + 100, hostName: nil)
        _ = table.decline(IPv4Address(10, 0, 0, 11), by: Self.b, until: Self.t0 + 50)
        #expect(table.freeAddress(in: Self.pool, for: Self.b, excluding: [], now: Self.t0) == IPv4Address(10, 0, 0, 12))
        #expect(
            table.freeAddress(in: Self.pool, for: Self.b, excluding: [IPv4Address(10, 0, 0, 12)], now: Self.t0) == nil)
        #expect(
            table.freeAddress(in: Self.pool, for: Self.b, excluding: [], now: Self.t0 + 60) == IPv4Address(10, 0, 0, 11)
        )
    }

    @Test("an offer on a bound address keeps the binding; an offer elsewhere drops it")
    func offers() {
        var table = LeaseTable()
        _ = table.bind(IPv4Address(10, 0, 0, 10), to: Self.a, until: Self.t0 + 100, hostName: nil)
        #expect(
            table.offer(IPv4Address(10, 0, 0, 10), to: Self.a, until: Self.t0 + 5, hostName: nil, now: Self.t0).isEmpty)
        #expect(table.lease(for: Self.a, now: Self.t0)?.state == .bound)
        #expect(
            table.offer(IPv4Address(10, 0, 0, 11), to: Self.a, until: Self.t0 + 5, hostName: nil, now: Self.t0)
                == [.remove(Self.a)])
        #expect(table.holder(of: IPv4Address(10, 0, 0, 10), now: Self.t0) == nil)
        // An expired offer is forgotten without a store change: offers were never stored.
        #expect(table.expire(now: Self.t0 + 5).isEmpty)
    }

    @Test("release only matches the leased address")
    func release() {
        var table = LeaseTable(leases: [
            Lease(mac: Self.a, address: IPv4Address(10, 0, 0, 10), state: .bound, expires: Self.t0 + 100)
        ])
        #expect(table.release(Self.a, address: IPv4Address(10, 0, 0, 99)).isEmpty)
        #expect(table.release(Self.a, address: IPv4Address(10, 0, 0, 10)) == [.remove(Self.a)])
    }

    @Test("loading two leases on one address keeps the later one")
    func conflictingLoad() {
        let address = IPv4Address(10, 0, 0, 10)
        let table = LeaseTable(leases: [
            Lease(mac: Self.a, address: address, state: .bound, expires: Self.t0 + 100),
            Lease(mac: Self.b, address: address, state: .bound, expires: Self.t0 + 100),
        ])
        #expect(table.holder(of: address, now: Self.t0) == Self.b)
        #expect(table.leases.count == 1)
    }
}
