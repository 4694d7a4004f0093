import Foundation
import GoldCore
import GoldImage
import Testing

@testable import GoldDirector

@Suite struct CaptureSessionLimitTests {
    func info(_ id: Int, machine: String) -> ImageCapture.Session {
        ImageCapture.Session(id: "cap-\(id)", machine: machine, parent: nil, chunkSize: 1 << 20, disks: [.init(index: 0, device: "/dev/vda")])
    }

    /// 1,000 sessions begun by one machine's agent leave two open.
    @Test func aMachineKeepsTwoOpenSessions() async throws {
        let sessions = CaptureSessions()
        for id in 0..<1000 { _ = try await sessions.begin(info(id, machine: "m1"), actor: "agent:m1") }
        #expect(await sessions.count == 2)
        // The newest ones stay usable; older ones are gone with a 404 that says to begin again.
        _ = try await sessions.session("cap-999", machine: "m1")
        _ = try await sessions.session("cap-998", machine: "m1")
        await #expect(throws: GoldError.self) { try await sessions.session("cap-1", machine: "m1") }
    }

    @Test func allMachinesTogetherHaveACap() async throws {
        let sessions = CaptureSessions(capacity: 10)
        for id in 0..<10 { _ = try await sessions.begin(info(id, machine: "m\(id)"), actor: "server") }
        await #expect {
            try await sessions.begin(info(10, machine: "m10"), actor: "server")
        } throws: { error in
            (error as? GoldError)?.code == .tooMany
        }
    }

    @Test func atMostTwoCommitsRunAtOnce() async throws {
        let sessions = CaptureSessions()
        for id in 0..<3 { _ = try await sessions.begin(info(id, machine: "m\(id)"), actor: "server") }
        #expect(try await sessions.startCommit("cap-0"))
        #expect(try await sessions.startCommit("cap-0") == false)
        #expect(try await sessions.startCommit("cap-1"))
        await #expect(throws: GoldError.self) { try await sessions.startCommit("cap-2") }
        await sessions.finishCommit("cap-0", result: nil)
        #expect(try await sessions.startCommit("cap-2"))
    }

    /// New chunk bytes a machine uploads before a commit stop at its quota, across sessions (an agent that begins
    /// again and again does not reset it); duplicates and refused chunks give their bytes back; a commit resets it.
    @Test func uncommittedUploadsStopAtTheQuota() async throws {
        let sessions = CaptureSessions()
        let chunk = 1 << 20
        _ = try await sessions.begin(info(0, machine: "m1"), actor: "agent:m1", quota: UInt64(3 * chunk))
        for _ in 0..<3 {
            try await sessions.reserve("cap-0", bytes: chunk)
            await sessions.recordUpload("cap-0", bytes: chunk, new: true)
        }
        await #expect {
            try await sessions.reserve("cap-0", bytes: chunk)
        } throws: { error in
            (error as? GoldError)?.code == .tooLarge && "\(error)".contains("m1")
        }
        // A new session of the same machine has the same budget, already spent.
        _ = try await sessions.begin(info(1, machine: "m1"), actor: "agent:m1", quota: UInt64(3 * chunk))
        await #expect(throws: GoldError.self) { try await sessions.reserve("cap-1", bytes: 1) }
        // Another machine is not affected.
        _ = try await sessions.begin(info(2, machine: "m2"), actor: "agent:m2", quota: UInt64(chunk))
        try await sessions.reserve("cap-2", bytes: chunk)
        await sessions.recordUpload("cap-2", bytes: chunk, new: false)  // the store had it: nothing stored
        try await sessions.reserve("cap-2", bytes: chunk)
        await sessions.recordRefused("cap-2", bytes: chunk)  // did not hash to its name: nothing stored
        #expect(await sessions.uncommittedBytes(machine: "m2") == 0)
        // A commit uses the uploads: the count starts again.
        #expect(try await sessions.startCommit("cap-1"))
        await sessions.finishCommit(
            "cap-1",
            result: ImageCapture.Result(
                machine: "m1", version: 1, parent: nil, change: "capture", current: true, disks: 1, size: 0, chunks: 0,
                zeroChunks: 0, uploadedChunks: 3, uploadedBytes: UInt64(3 * chunk), alreadyStored: 0))
        #expect(await sessions.uncommittedBytes(machine: "m1") == 0)
        try await sessions.reserve("cap-1", bytes: chunk)
    }

    @Test func theQuotaIsTwiceTheDisksPlusAChunk() {
        let disk = DiskSpec(size: ByteSize(bytes: 8 << 30))
        #expect(ImageCapture.uploadQuota(spec: [disk, disk], parent: nil, chunkSize: 4 << 20) == 32 << 30 + 4 << 20)
        let huge = DiskSpec(size: ByteSize(bytes: .max))
        #expect(ImageCapture.uploadQuota(spec: [huge, huge], parent: nil, chunkSize: 1) == .max)
    }
}
