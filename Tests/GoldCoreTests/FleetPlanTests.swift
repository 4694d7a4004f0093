import GoldCore
import Testing

@Suite struct FleetPlanTests {
    let a = MachineSpec(name: "a", macs: [MACAddress("52:54:00:00:00:01")!])
    let b = MachineSpec(name: "b", macs: [MACAddress("52:54:00:00:00:02")!])

    @Test func addChangeKeepRemove() throws {
        var a2 = a
        a2.services = ["ssh"]
        let c = MachineSpec(name: "c", macs: [MACAddress("52:54:00:00:00:03")!])
        let kept = try FleetPlan.make(
            current: [a, b], currentProfiles: [], desired: Fleet(machines: [a2, c]), prune: false)
        #expect(kept.added == ["c"])
        #expect(kept.changed == [.init(machine: "a", fields: ["services"])])
        #expect(kept.kept == ["b"])
        #expect(kept.removed.isEmpty)
        #expect(kept.lines.contains("~ machine a (services)"))
        let pruned = try FleetPlan.make(
            current: [a, b], currentProfiles: [], desired: Fleet(machines: [a2, c]), prune: true)
        #expect(pruned.removed == ["b"])
    }

    @Test func macOfAKeptMachineIsRefused() {
        let c = MachineSpec(name: "c", macs: b.macs)
        #expect(throws: GoldError.self) {
            try FleetPlan.make(current: [a, b], currentProfiles: [], desired: Fleet(machines: [a, c]), prune: false)
        }
        #expect(throws: Never.self) {
            try FleetPlan.make(current: [a, b], currentProfiles: [], desired: Fleet(machines: [a, c]), prune: true)
        }
    }
}
