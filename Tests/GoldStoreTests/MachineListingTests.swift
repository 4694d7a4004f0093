import Foundation
import GoldCore
import Testing

/// Listing reuses the specs it decoded before (the SQLite store keeps them with their stored JSON): every listing must
/// still show each machine as one read of it shows it, after every kind of change.
@Suite struct MachineListingTests {
    static func sameAsOneByOne(_ store: any GoldStore) async throws {
        let listed = try await store.listMachines()
        for record in listed {
            #expect(try await store.machine(named: record.name) == record)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func listingsFollowEveryChangeAndDropRemovedMachines(kind: StoreKind) async throws {
        let store = try kind.make()
        let a = machine("a", mac: "52:54:00:00:00:01")
        let b = machine("b", mac: "52:54:00:00:00:02")
        _ = try await store.applyFleet(Fleet(machines: [a, b]), prune: false, dryRun: false, actor: "t")
        #expect(try await store.listMachines().map(\.spec) == [a, b])

        // A changed spec, a machine removed, one added.
        var changed = a
        changed.role = "db"
        changed.disks = [DiskSpec(device: "/dev/sda", size: ByteSize(bytes: 1 << 30))]
        let c = machine("c", mac: "52:54:00:00:00:03")
        _ = try await store.applyFleet(Fleet(machines: [changed, c]), prune: true, dryRun: false, actor: "t")
        #expect(try await store.listMachines().map(\.spec) == [changed, c])
        try await Self.sameAsOneByOne(store)

        // Changes outside the spec: state, next boot, inventory.
        try await store.setState(machine: "c", .ready, actor: "t")
        try await store.setNextBoot(machine: "a", .netbootOnce(.deploy), actor: "t")
        try await store.setInventory(machine: "c", inventory: .object(["cpus": .number(4)]), actor: "t")
        let listed = try await store.listMachines()
        #expect(listed.map(\.state) == [.new, .ready])
        #expect(listed.first?.nextBoot == .netbootOnce(.deploy))
        #expect(listed.last?.inventory == .object(["cpus": .number(4)]))
        try await Self.sameAsOneByOne(store)
        try await store.setInventory(machine: "c", inventory: .object(["cpus": .number(8)]), actor: "t")
        #expect(try await store.listMachines().last?.inventory == .object(["cpus": .number(8)]))

        // The same name back with another spec after it was removed.
        var back = b
        back.role = "cache"
        _ = try await store.applyFleet(Fleet(machines: [changed, back, c]), prune: true, dryRun: false, actor: "t")
        #expect(try await store.listMachines().map(\.spec) == [changed, back, c])
        try await Self.sameAsOneByOne(store)
    }
}
