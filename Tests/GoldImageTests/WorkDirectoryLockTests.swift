import Foundation
import GoldCore
import Testing

@testable import GoldImage

/// Work directories of builds that ended with their process are removed by the next build; running builds' are not.
@Suite struct WorkDirectoryLockTests {
    @Test func aRunningBuildsDirectoryStaysAndADeadOnesGoes() throws {
        let dir = try TestDirectory("worklock")
        let work = dir.path("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)

        // A build of this process, running: its directory stays.
        let running = work.appendingPathComponent("m1-running")
        let lock = try WorkDirectoryLock.acquire(running)
        try FileManager.default.createDirectory(at: running, withIntermediateDirectories: true)
        try Data("image".utf8).write(to: running.appendingPathComponent("disk0.img"))

        // A build of another process, running (flock(1) holds the lock), then killed.
        let other = work.appendingPathComponent("m2-other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        // One process holds it (the shell locks fd 9 with flock(1), then becomes `sleep` keeping fd 9), so killing it
        // releases the lock as a killed director would.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", "exec 9>\"$0\" && flock -x 9 && exec sleep 600", WorkDirectoryLock.lockPath(other)]
        holder.standardOutput = FileHandle.nullDevice
        holder.standardError = FileHandle.nullDevice
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        // Wait until flock(1) holds it: this process's own attempt fails then.
        var held = false
        for _ in 0..<500 where !held {
            let fd = open(WorkDirectoryLock.lockPath(other), O_RDWR | O_CLOEXEC)
            if fd >= 0 {
                held = flock(fd, LOCK_EX | LOCK_NB) != 0
                close(fd)
            }
            if !held { usleep(10_000) }
        }
        try #require(held, "flock(1) never took the lock")

        // A directory from before these locks: kept while recent, removed once old.
        let legacy = work.appendingPathComponent("m3-legacy")
        try FileManager.default.createDirectory(at: legacy, withIntermediateDirectories: true)

        #expect(WorkDirectoryLock.sweep(work).isEmpty)
        for kept in [running, other, legacy] { #expect(FileManager.default.fileExists(atPath: kept.path)) }

        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        #expect(WorkDirectoryLock.sweep(work) == ["m2-other"])
        #expect(!FileManager.default.fileExists(atPath: other.path))
        #expect(!FileManager.default.fileExists(atPath: WorkDirectoryLock.lockPath(other)))
        #expect(FileManager.default.fileExists(atPath: running.appendingPathComponent("disk0.img").path))

        #expect(WorkDirectoryLock.sweep(work, now: Date().addingTimeInterval(7200)) == ["m3-legacy"])
        #expect(FileManager.default.fileExists(atPath: running.path), "a running build's directory is never old")

        // The build ends: directory and lock file go; a lock file left without its directory is swept too.
        lock.remove()
        #expect(!FileManager.default.fileExists(atPath: running.path))
        #expect(!FileManager.default.fileExists(atPath: WorkDirectoryLock.lockPath(running)))
        let stray = work.appendingPathComponent("m4-gone")
        _ = FileManager.default.createFile(atPath: WorkDirectoryLock.lockPath(stray), contents: nil)
        WorkDirectoryLock.sweep(work)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? ["?"]).isEmpty)
    }

    @Test func aBuildLeavesNoWorkDirectoryAndTakesAwayADeadBuilds() async throws {
        let dir = try TestDirectory("worklock-build")
        let base = dir.path("base")
        try Fixtures.busyboxRoot(at: base)
        let kernel = try Fixtures.fakeKernel(at: dir.path("kernel"))
        let builder = ImageBuilder(dataDirectory: dir.path("data"))
        let work = dir.path("data/work")
        // What a build killed with its director leaves: its directory and its lock file, held by nobody.
        let dead = work.appendingPathComponent("m0-dead")
        try FileManager.default.createDirectory(
            at: dead.appendingPathComponent("stage"), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: WorkDirectoryLock.lockPath(dead), contents: nil)

        let store = ImageStore(root: dir.path("images"))
        try await builder.buildAndImport(
            Fixtures.request(Fixtures.machine("wl-1", boot: .uefi), base: base, kernel: kernel), into: store,
            change: .provision,
            description: "test")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? ["?"]).isEmpty)
    }
}
