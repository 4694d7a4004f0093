import Foundation
import GoldWorkflow

/// What a handler answers; `then` runs after the outcome is reported (a reboot acks first, then reboots).
public struct HandlerResult: Codable, Sendable {
    public var ok: Bool
    public var detail: String?
    public var outputs: [String: String]
    public var rebootAfterReport: Bool

    public init(ok: Bool, detail: String?, outputs: [String: String] = [:], rebootAfterReport: Bool = false) {
        self.ok = ok
        self.detail = detail
        self.outputs = outputs
        self.rebootAfterReport = rebootAfterReport
    }

    public static func failed(_ detail: String) -> HandlerResult { HandlerResult(ok: false, detail: detail) }
}

public protocol AgentHandlers: Sendable {
    func handle(_ request: AgentRequest, command: Command, api: AgentAPI) async -> HandlerResult
    func reboot() async
}

/// Takes commands from the director and runs each once: results are kept on disk by command id, so a command the
/// director hands out again (after its restart) is answered from the record, never run twice.
public actor AgentLoop {
    let api: AgentAPI
    let handlers: any AgentHandlers
    let journal: String
    private var done: [String: HandlerResult]

    public init(api: AgentAPI, handlers: any AgentHandlers, journal: String) {
        self.api = api
        self.handlers = handlers
        self.journal = journal
        if let data = FileManager.default.contents(atPath: journal),
            let saved = try? JSONDecoder().decode([String: HandlerResult].self, from: data)
        {
            done = saved
        } else {
            done = [:]
        }
    }

    /// One round: waits up to `wait` seconds for commands and runs them. Returns how many it handled.
    @discardableResult
    public func round(wait: Int = 25) async throws -> Int {
        let commands = try await api.commands(wait: wait)
        for command in commands {
            guard case .agent(let request) = command.action else { continue }
            let result: HandlerResult
            if let saved = done[command.id] {
                result = saved
            } else {
                result = await handlers.handle(request, command: command, api: api)
                done[command.id] = result
                save()
            }
            try await api.report(command.id, result)
            if result.rebootAfterReport { await handlers.reboot() }
        }
        return commands.count
    }

    /// Rounds until cancelled; network trouble waits and tries again.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await round()
            } catch {
                FileHandle.standardError.write(Data("gold-agent: \(error)\n".utf8))
                try? await Task.sleep(for: .seconds(2))
            }
        }
    }

    func save() {
        guard let data = try? JSONEncoder().encode(done) else { return }
        let dir = (journal as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // A journal that could not be written keeps the old one (a command may then run again, never half-recorded).
        guard FileManager.default.createFile(atPath: journal + ".tmp", contents: data) else { return }
        _ = rename(journal + ".tmp", journal)
    }
}
