import Foundation

/// One image version as `gold image list` shows it (`GET /v1/images/{machine}`).
public struct ImageVersionSummary: Codable, Sendable {
    public struct Disk: Codable, Sendable {
        public var index: Int
        public var device: String?
        public var size: UInt64
        public var sha256: String
        public var chunks: Int
        public var zeroChunks: Int

        public init(index: Int, device: String?, size: UInt64, sha256: String, chunks: Int, zeroChunks: Int) {
            self.index = index
            self.device = device
            self.size = size
            self.sha256 = sha256
            self.chunks = chunks
            self.zeroChunks = zeroChunks
        }
    }
    public var machine: String
    public var version: Int
    public var parent: Int?
    public var change: String
    public var description: String
    public var created: Date
    public var current: Bool
    public var disks: [Disk]

    public init(
        machine: String, version: Int, parent: Int?, change: String, description: String, created: Date,
        current: Bool, disks: [Disk]
    ) {
        self.machine = machine
        self.version = version
        self.parent = parent
        self.change = change
        self.description = description
        self.created = created
        self.current = current
        self.disks = disks
    }
}

/// A machine's lineage in one line: its deployed version and how many it has (`gold machine list`'s IMAGE column).
public struct ImageLineageSummary: Codable, Sendable, Hashable {
    public var machine: String
    public var current: Int?
    public var versions: Int

    public init(machine: String, current: Int?, versions: Int) {
        self.machine = machine
        self.current = current
        self.versions = versions
    }
}

/// A compile job as `gold job list|show` shows it (`GET /v1/jobs`).
public struct JobSummary: Codable, Sendable {
    public var key: String
    public var label: String
    public var kind: String
    public var machines: [String]
    /// queued, building, succeeded, reused, failed, cancelled
    public var state: String
    public var worker: String?
    public var attempts: Int
    public var detail: String?
    public var logBytes: Int

    public init(
        key: String, label: String, kind: String, machines: [String], state: String, worker: String?, attempts: Int,
        detail: String?, logBytes: Int
    ) {
        self.key = key
        self.label = label
        self.kind = kind
        self.machines = machines
        self.state = state
        self.worker = worker
        self.attempts = attempts
        self.detail = detail
        self.logBytes = logBytes
    }
}

/// `POST /v1/jobs`: build the kernels and binaries these machines need.
public struct SubmitJobs: Codable, Sendable {
    public var machines: [String]
    public init(machines: [String]) { self.machines = machines }
}

/// A slice of a job's build log from `offset` (`GET /v1/jobs/{key}/log`); `next` is where the following request
/// starts.
public struct JobLog: Codable, Sendable {
    public var text: String
    public var next: Int
    public var finished: Bool

    public init(text: String, next: Int, finished: Bool) {
        self.text = text
        self.next = next
        self.finished = finished
    }
}
