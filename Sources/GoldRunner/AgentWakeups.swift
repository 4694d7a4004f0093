/// Agents waiting for commands, by machine: woken when a command for their machine starts, so a waiting agent costs no
/// store reads (1,000 agents asking the store every 250 ms were 4,000 reads a second, most of a 2-core director).
actor AgentWakeups {
    private var generations: [String: Int] = [:]
    private var waiters: [String: [Int: CheckedContinuation<Void, Never>]] = [:]
    private var nextID = 0

    /// Changes each time the machine is woken: read it before asking the store, wait with it after.
    func generation(_ machine: String) -> Int { generations[machine] ?? 0 }

    /// A command for `machine` may be waiting: every agent waiting for it asks again.
    func wake(_ machine: String) {
        generations[machine, default: 0] += 1
        for waiter in waiters.removeValue(forKey: machine)?.values.map({ $0 }) ?? [] { waiter.resume() }
    }

    /// Returns once `machine` is woken after `generation` (at once if it already was): true; or at `deadline`: false.
    @discardableResult
    func wait(_ machine: String, after generation: Int, until deadline: ContinuousClock.Instant) async -> Bool {
        guard self.generation(machine) == generation else { return true }
        let id = nextID
        nextID += 1
        // Unstructured so the wait can end the timer: cancelled below, whoever resumes the waiter.
        let timer = Task {
            try? await Task.sleep(until: deadline)
            self.timeOut(machine, id)
        }
        await withCheckedContinuation { waiters[machine, default: [:]][id] = $0 }
        timer.cancel()
        return self.generation(machine) != generation
    }

    private func timeOut(_ machine: String, _ id: Int) {
        guard let waiter = waiters[machine]?.removeValue(forKey: id) else { return }
        if waiters[machine]?.isEmpty == true { waiters[machine] = nil }
        waiter.resume()
    }

    /// Agents waiting now (for tests).
    var waiting: Int { waiters.values.map(\.count).reduce(0, +) }
}
