import GRDB

extension SQLiteStore {
    /// Migrations are frozen once shipped: add a new one, never edit an old one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: machines, profiles, events, tokens") { db in
            try db.execute(
                sql: """
                    CREATE TABLE profile (
                        name TEXT PRIMARY KEY NOT NULL,
                        settings TEXT NOT NULL
                    );
                    CREATE TABLE machine (
                        name TEXT PRIMARY KEY NOT NULL,
                        profile TEXT,
                        role TEXT,
                        state TEXT NOT NULL,
                        spec TEXT NOT NULL,
                        inventory TEXT,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX machine_role ON machine (role);
                    CREATE TABLE nic (
                        mac TEXT PRIMARY KEY NOT NULL,
                        machine TEXT NOT NULL REFERENCES machine (name) ON DELETE CASCADE
                    );
                    CREATE INDEX nic_machine ON nic (machine);
                    CREATE TABLE event (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        at INTEGER NOT NULL,
                        actor TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        machine TEXT,
                        message TEXT NOT NULL,
                        data TEXT
                    );
                    CREATE INDEX event_machine ON event (machine, id);
                    CREATE TABLE token (
                        id TEXT PRIMARY KEY NOT NULL,
                        hash TEXT NOT NULL UNIQUE,
                        role TEXT NOT NULL,
                        machine TEXT,
                        label TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    );
                    """)
        }
        migrator.registerMigration("v2: next boot, enrolment generation, director key") { db in
            try db.execute(
                sql: """
                    ALTER TABLE machine ADD COLUMN next_boot TEXT NOT NULL DEFAULT 'disk';
                    ALTER TABLE machine ADD COLUMN enrol_generation INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE secret (
                        name TEXT PRIMARY KEY NOT NULL,
                        value TEXT NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v3: workflows and their commands") { db in
            try db.execute(
                sql: """
                    CREATE TABLE workflow (
                        id TEXT PRIMARY KEY NOT NULL,
                        machine TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        status TEXT NOT NULL,
                        state TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX workflow_machine ON workflow (machine, created_at);
                    CREATE UNIQUE INDEX workflow_one_active ON workflow (machine) WHERE status IN ('running', 'intervention');
                    CREATE TABLE command (
                        id TEXT PRIMARY KEY NOT NULL,
                        workflow TEXT NOT NULL REFERENCES workflow (id),
                        machine TEXT NOT NULL,
                        action TEXT NOT NULL,
                        state TEXT NOT NULL,
                        outcome TEXT,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX command_open ON command (state, machine);
                    """)
        }
        migrator.registerMigration("v4: rollouts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE rollout (
                        id TEXT PRIMARY KEY NOT NULL,
                        status TEXT NOT NULL,
                        state TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX rollout_status ON rollout (status, created_at);
                    """)
        }
        migrator.registerMigration("v5: compile queue") { db in
            try db.execute(
                sql: """
                    CREATE TABLE compile_job (
                        key TEXT PRIMARY KEY NOT NULL,
                        revision INTEGER NOT NULL,
                        entry TEXT NOT NULL
                    );
                    CREATE TABLE compile_log (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        key TEXT NOT NULL,
                        text TEXT NOT NULL
                    );
                    CREATE INDEX compile_log_key ON compile_log (key, id);
                    """)
        }
        return migrator
    }
}
