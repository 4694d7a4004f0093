import Foundation
import GoldCore
import GoldImage
import Testing

@testable import GoldDirector

@Suite struct CaptureSessionLimitTests {
    func info(_ id: Int, machine: String) -> ImageCapture.Session {
        ImageCapture.Session(
            id: "cap-\(id)", machine: machine, parent: nil, chunkSize: 1 << 20,
            disks: [.init(index: 0, device: "/dev/vda")])
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
    /// again and again does not reset it). A chunk uploaded twice counts once; duplicates the store held and refused
    /// chunks are taken back; a commit takes back the chunks its version uses (not the others); a garbage collection
    /// the chunks it removed.
    @Test func uncommittedUploadsStopAtTheQuota() async throws {
        let sessions = CaptureSessions()
        let chunk = 1 << 20
        let hashes = (0..<8).map { ChunkHash(of: Data([UInt8($0)])) }
        _ = try await sessions.begin(info(0, machine: "m1"), actor: "agent:m1", quota: UInt64(3 * chunk))
        for hash in hashes[0..<3] {
            let counted = try await sessions.reserve("cap-0", chunk: hash, bytes: chunk)
            #expect(counted)
            await sessions.recordUpload("cap-0", chunk: hash, bytes: chunk, new: true, counted: counted)
        }
        // The same chunk again is counted once, and its second "already stored" answer takes nothing back.
        let again = try await sessions.reserve("cap-0", chunk: hashes[0], bytes: chunk)
        #expect(!again)
        await sessions.recordUpload("cap-0", chunk: hashes[0], bytes: chunk, new: false, counted: again)
        #expect(await sessions.uncommittedBytes(machine: "m1") == UInt64(3 * chunk))
        await #expect {
            _ = try await sessions.reserve("cap-0", chunk: hashes[3], bytes: chunk)
        } throws: { error in
            (error as? GoldError)?.code == .tooLarge && "\(error)".contains("m1")
        }
        // A new session of the same machine has the same budget, already spent.
        _ = try await sessions.begin(info(1, machine: "m1"), actor: "agent:m1", quota: UInt64(3 * chunk))
        await #expect(throws: GoldError.self) { _ = try await sessions.reserve("cap-1", chunk: hashes[4], bytes: 1) }
        // Another machine is not affected; what the store held already, or refused, is taken back.
        _ = try await sessions.begin(info(2, machine: "m2"), actor: "agent:m2", quota: UInt64(chunk))
        let held = try await sessions.reserve("cap-2", chunk: hashes[5], bytes: chunk)
        await sessions.recordUpload("cap-2", chunk: hashes[5], bytes: chunk, new: false, counted: held)
        let damaged = try await sessions.reserve("cap-2", chunk: hashes[6], bytes: chunk)
        await sessions.recordRefused("cap-2", chunk: hashes[6], counted: damaged)
        #expect(await sessions.uncommittedBytes(machine: "m2") == 0)
        // A commit whose version uses chunks 0 and 1 takes those back, not chunk 2.
        #expect(try await sessions.startCommit("cap-1"))
        await sessions.finishCommit(
            "cap-1",
            result: ImageCapture.Result(
                machine: "m1", version: 1, parent: nil, change: "capture", current: true, disks: 1, size: 0, chunks: 2,
                zeroChunks: 0, uploadedChunks: 2, uploadedBytes: UInt64(2 * chunk), alreadyStored: 0),
            chunks: [hashes[0], hashes[1]])
        #expect(await sessions.uncommittedBytes(machine: "m1") == UInt64(chunk))
        // A garbage collection removed chunk 2: no longer counted.
        #expect(Set(await sessions.uncommittedChunks()) == [hashes[2]])
        await sessions.forgetRemoved([hashes[2]])
        #expect(await sessions.uncommittedBytes(machine: "m1") == 0)
        #expect(try await sessions.reserve("cap-1", chunk: hashes[7], bytes: chunk))
    }

    @Test func theQuotaIsTwiceTheDisksPlusAChunk() {
        let disk = DiskSpec(size: ByteSize(bytes: 8 << 30))
        #expect(ImageCapture.uploadQuota(spec: [disk, disk], parent: nil, chunkSize: 4 << 20) == 32 << 30 + 4 << 20)
        let huge = DiskSpec(size: ByteSize(bytes: .max))
        #expect(ImageCapture.uploadQuota(spec: [huge, huge], parent: nil, chunkSize: 1) == .max)
        // The agent reads whole devices: a disk larger than the fleet file says raises the quota.
        #expect(ImageCapture.uploadQuota(spec: [disk], parent: nil, reported: [100 << 30], chunkSize: 0) == 200 << 30)
        #expect(
            Director.reportedDiskSizes(
                .object(["disks": .array([.object(["sizeBytes": .number(4096)]), .object(["sizeBytes": .number(-1)])])])
            ) == [4096])
    }
}
