import Foundation
import GRDB
import GoldCore
import GoldWorkflow

extension SQLiteStore: WorkflowStore {
    public func createWorkflow(_ workflow: Workflow, actor: String) async throws {
        try await writer.write { db in
            if let holder = try Row.fetchOne(
                db, sql: "SELECT id, kind FROM workflow WHERE machine = ? AND status IN ('running', 'intervention')",
                arguments: [workflow.machine])
            {
                throw GoldError(
                    .conflict,
                    "machine \(workflow.machine) is held by workflow \(holder["id"] as String) (\(holder["kind"] as String)); wait for it, or abort it"
                )
            }
            guard
                try Row.fetchOne(db, sql: "SELECT 1 FROM machine WHERE name = ?", arguments: [workflow.machine]) != nil
            else {
                throw GoldError(.notFound, "no machine named '\(workflow.machine)'")
            }
            try db.execute(
                sql:
                    "INSERT INTO workflow (id, machine, kind, status, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    workflow.id, workflow.machine, workflow.kind.rawValue, workflow.status.rawValue,
                    try Self.json(workflow),
                    Self.millis(workflow.createdAt), Self.millis(workflow.updatedAt),
                ])
            try Self.insertEvent(
                db,
                NewEvent(
                    actor: actor, kind: "workflow.created", machine: workflow.machine,
                    message: "\(workflow.kind.rawValue) \(workflow.id) started: \(workflow.steps.count) steps"))
        }
    }

    public func saveWorkflow(_ workflow: Workflow, commands: [Command], events: [NewEvent]) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE workflow SET status = ?, state = ?, updated_at = ? WHERE id = ?",
                arguments: [
                    workflow.status.rawValue, try Self.json(workflow), Self.millis(workflow.updatedAt), workflow.id,
                ])
            guard db.changesCount == 1 else { throw GoldError(.notFound, "no workflow '\(workflow.id)'") }
            let now = Self.millis(Date())
            for command in commands {
                try db.execute(
                    sql:
                        "INSERT INTO command (id, workflow, machine, action, state, created_at, updated_at) VALUES (?, ?, ?, ?, 'issued', ?, ?)",
                    arguments: [command.id, command.workflow, command.machine, try Self.json(command), now, now])
            }
            for event in events { try Self.insertEvent(db, event) }
        }
    }

    public func createRollout(_ rollout: Rollout, actor: String) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "INSERT INTO rollout (id, status, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    rollout.id, rollout.status.rawValue, try Self.json(rollout), Self.millis(rollout.createdAt),
                    Self.millis(rollout.updatedAt),
                ])
            try Self.insertEvent(
                db,
                NewEvent(
                    actor: actor, kind: "rollout.created", machine: nil,
                    message:
                        "\(rollout.kind.rawValue) rollout \(rollout.id) over \(rollout.targets.count) machines (\(rollout.selector)): canary \(rollout.canary), batch \(rollout.batchSize), max failures \(rollout.maxFailures)"
                ))
        }
    }

    public func saveRollout(_ rollout: Rollout, events: [NewEvent]) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE rollout SET status = ?, state = ?, updated_at = ? WHERE id = ?",
                arguments: [
                    rollout.status.rawValue, try Self.json(rollout), Self.millis(rollout.updatedAt), rollout.id,
                ])
            guard db.changesCount == 1 else { throw GoldError(.notFound, "no rollout '\(rollout.id)'") }
            for event in events { try Self.insertEvent(db, event) }
        }
    }

    public func rollout(id: String) async throws -> Rollout? {
        try await writer.read { db in
            try String.fetchOne(db, sql: "SELECT state FROM rollout WHERE id = ?", arguments: [id]).map {
                try Self.decode(Rollout.self, $0)
            }
        }
    }

    public func listRollouts(activeOnly: Bool, limit: Int) async throws -> [Rollout] {
        try await writer.read { db in
            let filter = activeOnly ? " WHERE status IN ('running', 'paused')" : ""
            return try String.fetchAll(
                db, sql: "SELECT state FROM rollout\(filter) ORDER BY created_at DESC, id DESC LIMIT ?",
                arguments: [limit]
            )
            .map { try Self.decode(Rollout.self, $0) }
        }
    }

    public func workflow(id: String) async throws -> Workflow? {
        try await writer.read { db in
            try String.fetchOne(db, sql: "SELECT state FROM workflow WHERE id = ?", arguments: [id]).map {
                try Self.decode(Workflow.self, $0)
            }
        }
    }

    public func listWorkflows(machine: String?, activeOnly: Bool, limit: Int) async throws -> [Workflow] {
        try await writer.read { db in
            var sql = "SELECT state FROM workflow WHERE 1 = 1"
            var arguments: StatementArguments = []
            if let machine {
                sql += " AND machine = ?"
                arguments += [machine]
            }
            if activeOnly { sql += " AND status IN ('running', 'intervention')" }
            sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
            arguments += [limit]
            return try String.fetchAll(db, sql: sql, arguments: arguments).map { try Self.decode(Workflow.self, $0) }
        }
    }

    public func openCommands() async throws -> [CommandRecord] {
        try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM command WHERE state IN ('issued', 'started') ORDER BY created_at, id"
            ).map(Self.commandRecord)
        }
    }

    public func openCommands(machine: String) async throws -> [CommandRecord] {
        try await writer.read { db in
            // command_open (state, machine): only this machine's rows are read and decoded.
            try Row.fetchAll(
                db,
                sql:
                    "SELECT * FROM command WHERE state IN ('issued', 'started') AND machine = ? ORDER BY created_at, id",
                arguments: [machine]
            ).map(Self.commandRecord)
        }
    }

    public func startCommand(id: String) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE command SET state = 'started', updated_at = ? WHERE id = ? AND state = 'issued'",
                arguments: [Self.millis(Date()), id])
            return db.changesCount == 1
        }
    }

    public func finishCommand(id: String, outcome: WorkflowEvent.Outcome) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE command SET state = 'done', outcome = ?, updated_at = ? WHERE id = ?",
                arguments: [try Self.json(outcome), Self.millis(Date()), id])
        }
    }

    public func command(id: String) async throws -> CommandRecord? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM command WHERE id = ?", arguments: [id]).map(Self.commandRecord)
        }
    }

    static func commandRecord(_ row: Row) throws -> CommandRecord {
        let outcome: String? = row["outcome"]
        let state: String = row["state"]
        return CommandRecord(
            command: try decode(Command.self, row["action"]), state: CommandRecord.State(rawValue: state) ?? .issued,
            outcome: try outcome.map { try decode(WorkflowEvent.Outcome.self, $0) })
    }
}
