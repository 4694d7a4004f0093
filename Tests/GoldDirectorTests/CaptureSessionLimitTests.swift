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
}
