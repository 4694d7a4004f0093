import Foundation
import GoldCore
import NIOCore
import Testing

@testable import GoldDirector

/// `GET /v1/machines` reuses each machine's JSON while the machine is unchanged: the answer must stay byte for byte
/// what encoding the whole list gives, after every change.
@Suite struct MachineListEncoderTests {
    static func record(_ name: String, role: String, state: MachineState = .new, inventory: JSONValue? = nil)
        -> MachineRecord
    {
        MachineRecord(
            spec: MachineSpec(
                name: name, role: role, macs: [MACAddress("52:54:00:00:03:\(name.suffix(2))")!],
                disks: [
                    DiskSpec(
                        device: "/dev/vda", size: ByteSize(bytes: 2 << 30),
                        partitions: [PartitionSpec(size: nil, filesystem: .ext4, mount: "/")])
                ],
                users: [UserSpec(name: "ops", keys: ["ssh-ed25519 AAAA ops@gold"], sudo: "ALL=(ALL) NOPASSWD: ALL")],
                checks: [CheckSpec(kind: .http, target: "http://\(name)/healthz")]),
            state: state, inventory: inventory, nextBoot: .disk, enrolGeneration: 2,
            createdAt: Date(timeIntervalSince1970: 1_795_000_000.123),
            updatedAt: Date(timeIntervalSince1970: 1_795_000_100))
    }

    static func whole(_ records: [MachineRecord]) throws -> [UInt8] { Array(try DirectorJSON.encoder.encode(records)) }

    static func listed(_ encoder: MachineListEncoder, _ records: [MachineRecord], complete: Bool = true) throws
        -> [UInt8]
    {
        let buffer = try encoder.encode(records, complete: complete)
        return Array(buffer.readableBytesView)
    }

    @Test func theAnswerIsTheWholeListEncodedAfterEveryChange() throws {
        let encoder = MachineListEncoder()
        var records = [
            Self.record("m-01", role: "web"), Self.record("m-02", role: "db", inventory: .object(["cpus": .number(8)])),
            Self.record("m-03", role: "web", state: .ready),
        ]
        #expect(try Self.listed(encoder, records) == Self.whole(records))
        #expect(try Self.listed(encoder, records) == Self.whole(records), "from the kept JSON")

        records[0].state = .provisioning
        records[1].inventory = .object(["cpus": .number(16), "disks": .array([.string("nvme0n1")])])
        records[2].nextBoot = .netbootOnce(.deploy)
        records[2].updatedAt = Date(timeIntervalSince1970: 1_795_000_200)
        #expect(try Self.listed(encoder, records) == Self.whole(records))

        // A filtered answer, then a machine removed and one renamed into its place.
        let web = records.filter { $0.spec.role == "web" }
        #expect(try Self.listed(encoder, web, complete: false) == Self.whole(web))
        records.remove(at: 1)
        records.append(Self.record("m-02", role: "cache"))
        #expect(try Self.listed(encoder, records) == Self.whole(records))
        #expect(try Self.listed(encoder, []) == Self.whole([MachineRecord]()))
    }
}
