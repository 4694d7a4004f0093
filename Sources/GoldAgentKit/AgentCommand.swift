import ArgumentParser
import Foundation
import GoldHTTPClient
import GoldSpawn

/// `gold-agent`: the process Gold runs on every machine and inside the netboot environment.
public struct AgentCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gold-agent",
        abstract: "Gold's agent: reports for this machine to the director.",
        version: "0.1.0",
        subcommands: [
            InventoryCommand.self, CheckIn.self, Netboot.self, Run.self, BootSuccessCommand.self,
            WriteImageCommand.self,
        ])

    public init() {}
}

struct AgentOptions: ParsableArguments {
    @Option(help: "The director's URL (or GOLD_DIRECTOR, or gold.director= on the kernel command line).")
    var director: String?
    @Option(help: "This machine's name in the fleet (or GOLD_MACHINE, or gold.machine=).")
    var machine: String?
    @Option(help: "A file holding this machine's agent token (or GOLD_TOKEN, or gold.token=).")
    var tokenFile: String = "/etc/gold/agent.token"

    /// Settings from flags, then the environment, then the kernel command line (the netboot environment's way).
    func resolve(cmdline: String? = try? String(contentsOfFile: "/proc/cmdline", encoding: .utf8)) throws -> (
        director: String, machine: String, token: String
    ) {
        let env = ProcessInfo.processInfo.environment
        let kernel = KernelCommandLine(cmdline ?? "")
        guard let director = director ?? env["GOLD_DIRECTOR"] ?? kernel["gold.director"] else {
            throw ValidationError("no director: pass --director, set GOLD_DIRECTOR or boot with gold.director=URL")
        }
        guard let machine = machine ?? env["GOLD_MACHINE"] ?? kernel["gold.machine"] else {
            throw ValidationError("no machine name: pass --machine, set GOLD_MACHINE or boot with gold.machine=NAME")
        }
        let token =
            env["GOLD_TOKEN"] ?? kernel["gold.token"]
            ?? (try? String(contentsOfFile: tokenFile, encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines)
        guard let token, !token.isEmpty else {
            throw ValidationError("no token: set GOLD_TOKEN, boot with gold.token= or write it to \(tokenFile)")
        }
        return (director.hasSuffix("/") ? String(director.dropLast()) : director, machine, token)
    }
}

struct InventoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory", abstract: "Print this machine's inventory as JSON.")
    @Option(help: "Read /proc and /sys under this root (for tests).") var root = "/"

    func run() async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(InventoryCollector(root: root).collect()), as: UTF8.self))
    }
}

struct CheckIn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-in", abstract: "Report this machine's inventory to the director.")
    @OptionGroup var options: AgentOptions

    func run() async throws {
        let settings = try options.resolve()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = try encoder.encode(InventoryCollector().collect())
        let response = try await HTTPClient.send(
            "PUT", "\(settings.director)/v1/machines/\(settings.machine)/inventory",
            headers: [("Authorization", "Bearer \(settings.token)"), ("Content-Type", "application/json")],
            body: Array(body))
        guard response.status == 204 else {
            throw ValidationError("the director refused the check-in (\(response.status)): \(response.text)")
        }
        print("checked in as \(settings.machine)")
    }
}

/// `key=value` words of the kernel command line.
public struct KernelCommandLine: Sendable {
    let values: [String: String]

    public init(_ text: String) {
        var values: [String: String] = [:]
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = word.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
        self.values = values
    }

    public subscript(key: String) -> String? { values[key] }
}

/// The `gold-agent` executable's entry point.
public enum AgentMain {
    public static func run() async {
        // Line by line onto the serial console or a log file, in order with stderr.
        StandardOutput.lineBuffered()
        await AgentCommand.main()
    }
}

/// In the netboot environment: check in with the one-time enrolment token, then run the director's commands.
struct Netboot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netboot", abstract: "Check in from the netboot environment and run commands.")
    @OptionGroup var options: AgentOptions
    @Option(help: "Where results are kept so no command runs twice.") var journal = "/run/gold-agent/journal.json"

    func run() async throws {
        let settings = try options.resolve()
        let enrolment = AgentAPI(director: settings.director, machine: settings.machine, token: settings.token)
        var session: (token: String, mode: String)?
        while session == nil {
            do {
                session = try await enrolment.checkIn(inventory: InventoryCollector().collect())
            } catch {
                print("gold-agent: check-in failed: \(error); trying again")
                try await Task.sleep(for: .seconds(3))
            }
        }
        print("gold-agent: checked in as \(settings.machine) (\(session!.mode))")
        let api = AgentAPI(director: settings.director, machine: settings.machine, token: session!.token)
        await AgentLoop(api: api, handlers: LiveHandlers(mode: .netboot), journal: journal).run()
    }
}

/// On an installed machine (a systemd service): run the director's commands.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the director's commands for this machine (installed mode).")
    @OptionGroup var options: AgentOptions
    @Option(help: "Where results are kept so no command runs twice.") var journal = "/var/lib/gold-agent/journal.json"

    func run() async throws {
        let settings = try options.resolve()
        let api = AgentAPI(director: settings.director, machine: settings.machine, token: settings.token)
        try? await api.putInventory(InventoryCollector().collect())
        await AgentLoop(api: api, handlers: LiveHandlers(mode: .installed), journal: journal).run()
    }
}

/// Ordered after boot-complete.target: this boot, with this kernel, made it through.
struct BootSuccessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot-success", abstract: "Tell the director this boot made it through.")
    @OptionGroup var options: AgentOptions

    func run() async throws {
        let settings = try options.resolve()
        let kernel =
            (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines) ?? "unknown"
        let api = AgentAPI(director: settings.director, machine: settings.machine, token: settings.token)
        for attempt in 1...30 {
            do {
                try await api.bootSuccess(kernel: kernel)
                print("gold-agent: boot success reported (kernel \(kernel))")
                return
            } catch  where attempt < 30 {
                try await Task.sleep(for: .seconds(2))
            }
        }
    }
}
