/// What one run of the director benchmark does.
public struct ScaleConfiguration: Hashable, Sendable, Codable {
    /// Machines in the fleet.
    public var machines = 10_000
    /// Provision workflows kept running at once.
    public var inFlight = 1_000
    /// How long finished workflows are replaced by new ones on fresh machines (seconds); 0: the first `inFlight` only.
    public var sustainSeconds = 240.0
    /// How long a simulated command or boot takes (milliseconds, uniform).
    public var delayMilliseconds: ClosedRange<Double> = 1000...5000
    /// Image writes, torture tests, compiles and image builds take this many times longer.
    public var longFactor = 4.0
    /// The agents' long-poll (`wait=`) in seconds; the real agent uses 25.
    public var agentPollSeconds = 25
    /// Installed machines outside any workflow whose agents long-poll their queue all along, as in a live fleet.
    public var idleAgents = 0
    /// `GET /v1/machines` requests in a row before any workflow starts.
    public var idleListSamples = 30
    /// Clients listing machines at once in the second half of the sustained phase (the first half uses one).
    public var listConcurrency = 4
    /// The runner's pass (observations from the event log, deadlines): the director's default is 1 s.
    public var tickMilliseconds = 1000
    /// How long to wait for the last workflows after the sustained window (seconds); nil: until every one has ended.
    public var maxDrainSeconds: Double?
    /// Workflows started at once through `POST /v1/workflows` when the run begins.
    public var startConcurrency = 16

    public init() {}

    /// Refuses settings that cannot run, naming the option.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws { if !ok { throw ScaleError(message) } }
        try check(
            machines >= 1 && machines <= 65_536, "--machines must be 1…65536 (MAC addresses use two bytes of the index)"
        )
        try check(inFlight >= 1, "--in-flight must be at least 1")
        try check(inFlight + idleAgents <= machines, "--in-flight plus --idle-agents must not exceed --machines")
        try check(sustainSeconds >= 0, "--sustain must be 0 or more seconds")
        try check(delayMilliseconds.lowerBound >= 0, "--delay-ms must not be negative")
        try check(longFactor > 0, "--long-factor must be positive")
        try check(
            agentPollSeconds >= 0 && agentPollSeconds <= 60,
            "--poll must be 0…60 seconds (the director caps wait at 60)")
        try check(listConcurrency >= 1, "--list-concurrency must be at least 1")
        try check(tickMilliseconds >= 10, "--tick-ms must be at least 10")
        try check(startConcurrency >= 1, "--start-concurrency must be at least 1")
        try check((maxDrainSeconds ?? 0) >= 0, "--max-drain must be 0 or more seconds")
    }
}

public struct ScaleError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
