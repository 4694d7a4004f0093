import ArgumentParser
import Foundation
import GoldCore
import GoldHTTPClient
import Testing

@testable import GoldCLI

@Suite struct CommandParsingTests {
    @Test func machineListFlags() throws {
        let command = try Gold.parseAsRoot([
            "machine", "list", "--json", "--role", "web", "--state", "ready", "--director", "http://gold:8080/",
        ])
        let list = try #require(command as? Gold.MachineCommand.List)
        #expect(list.output.json)
        #expect(list.role == "web")
        #expect(list.state == .ready)
        #expect(list.client.directorURL == "http://gold:8080")
    }

    @Test func fleetApplyFlags() throws {
        let apply = try #require(
            try Gold.parseAsRoot(["fleet", "apply", "f.yaml", "--prune", "--dry-run"]) as? Gold.FleetCommand.Apply)
        #expect(apply.file == "f.yaml" && apply.prune && apply.dryRun)
    }

    @Test func tftpServeFileCache() throws {
        let root = FileManager.default.temporaryDirectory.path
        let serve = try #require(try Gold.parseAsRoot(["tftp", "serve", "--root", root]) as? Gold.TFTPCommand.Serve)
        #expect(serve.fileCacheMib == 256)
        let off = try #require(
            try Gold.parseAsRoot(["tftp", "serve", "--root", root, "--file-cache-mib", "0"]) as? Gold.TFTPCommand.Serve)
        #expect(off.fileCacheMib == 0)
        #expect(throws: (any Error).self) {
            try Gold.parseAsRoot(["tftp", "serve", "--root", root, "--file-cache-mib", "-1"])
        }
    }

    @Test func tokenCreateNeedsAMachineForAgents() throws {
        #expect(throws: (any Error).self) { try Gold.parseAsRoot(["token", "create", "--role", "agent"]) }
        #expect(throws: (any Error).self) {
            try Gold.parseAsRoot(["token", "create", "--role", "viewer", "--machine", "a"])
        }
        #expect(throws: (any Error).self) { try Gold.parseAsRoot(["token", "create", "--role", "root"]) }
        let create = try #require(
            try Gold.parseAsRoot(["token", "create", "--role", "agent", "--machine", "a"]) as? Gold.TokenCommand.Create)
        #expect(create.role == .agent && create.machine == "a")
    }

    @Test func serveValidatesRolesAndListen() throws {
        #expect(throws: (any Error).self) { try Gold.parseAsRoot(["serve", "--roles", "director,builder"]) }
        #expect(throws: (any Error).self) { try Gold.parseAsRoot(["serve", "--listen", "nowhere"]) }
        let serve = try #require(
            try Gold.parseAsRoot(["serve", "--roles", "director", "--listen", "127.0.0.1:9"]) as? Gold.Serve)
        #expect(serve.roles == "director")
    }

    @Test func eventsFlags() throws {
        let events = try #require(
            try Gold.parseAsRoot(["events", "--follow", "--machine", "a", "--after", "7"]) as? Gold.Events)
        #expect(events.follow && events.machine == "a" && events.after == 7)
        #expect(throws: (any Error).self) { try Gold.parseAsRoot(["events", "--limit", "0"]) }
    }

    @Test func unknownCommandFails() {
        #expect(throws: (any Error).self) { try Gold.parseAsRoot(["provison"]) }
    }

    @Test func errorBodiesBecomeOneLine() {
        let error = DirectorClient.error(
            from: .init(
                status: 403, headers: [],
                body: Array(#"{"error":{"code":"forbidden","message":"token tok-1 may not read"}}"#.utf8)))
        #expect(error.code == .forbidden)
        #expect(error.description == "token tok-1 may not read")
    }
}

@Suite struct WorkflowCommandParsingTests {
    @Test func workflowCommands() throws {
        let provision = try #require(try Gold.parseAsRoot(["provision", "lab-1", "--watch"]) as? Gold.Provision)
        #expect(provision.machine == "lab-1" && provision.start.watch)
        let upgrade = try #require(
            try Gold.parseAsRoot(["kernel", "upgrade", "lab-1", "--kernel", "6.1.0-gold"])
                as? Gold.KernelCommand.Upgrade)
        #expect(upgrade.kernel == "6.1.0-gold")
        let update = try #require(try Gold.parseAsRoot(["update", "lab-1", "--binary", "hello"]) as? Gold.Update)
        #expect(update.binary == "hello" && !update.reboot)
        #expect(throws: (any Error).self) { try Gold.parseAsRoot(["update", "lab-1"]) }
        let restore = try #require(try Gold.parseAsRoot(["restore", "lab-1", "--version", "3"]) as? Gold.Restore)
        #expect(restore.version == 3)
        #expect(try Gold.parseAsRoot(["interventions"]) is Gold.Interventions.List)
        #expect(try Gold.parseAsRoot(["interventions", "retry", "wf-1"]) is Gold.Interventions.Retry)
        #expect(try Gold.parseAsRoot(["workflow", "list", "--active", "--json"]) is Gold.WorkflowCommand.List)
    }
}
