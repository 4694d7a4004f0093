import NIOConcurrencyHelpers
import NIOCore

/// Counts transfers for the limits, remembers how to cancel them, and tells `run()` when all have ended.
final class TransferRegistry: Sendable {
    enum Admission: Equatable {
        case admitted
        case duplicate
        case serverBusy(Int)
        case clientBusy(Int)
        case stopping
    }

    private struct State {
        var active: [SocketAddress: @Sendable () -> Void] = [:]
        var perClient: [String: Int] = [:]
        var stopping = false
        var cancelling = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = NIOLockedValueBox(State())
    let maxTransfers: Int
    let maxPerClient: Int

    init(maxTransfers: Int, maxPerClient: Int) {
        self.maxTransfers = max(1, maxTransfers)
        self.maxPerClient = max(1, maxPerClient)
    }

    var activeCount: Int { self.state.withLockedValue { $0.active.count } }

    /// Reserves a slot for `client`; `cancel` is replaced by ``setCancel(_:for:)`` once the transfer exists.
    func admit(_ client: SocketAddress) -> Admission {
        self.state.withLockedValue { state in
            if state.stopping { return .stopping }
            if state.active[client] != nil { return .duplicate }
            if state.active.count >= self.maxTransfers { return .serverBusy(self.maxTransfers) }
            let key = client.ipAddress ?? "\(client)"
            let count = state.perClient[key, default: 0]
            if count >= self.maxPerClient { return .clientBusy(self.maxPerClient) }
            state.perClient[key] = count + 1
            state.active[client] = {}
            return .admitted
        }
    }

    func setCancel(_ cancel: @escaping @Sendable () -> Void, for client: SocketAddress) {
        let cancelNow = self.state.withLockedValue { state -> Bool in
            guard state.active[client] != nil else { return false }
            state.active[client] = cancel
            return state.cancelling
        }
        if cancelNow { cancel() }
    }

    func release(_ client: SocketAddress) {
        let waiters = self.state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            guard state.active.removeValue(forKey: client) != nil else { return [] }
            let key = client.ipAddress ?? "\(client)"
            let count = state.perClient[key, default: 1] - 1
            state.perClient[key] = count > 0 ? count : nil
            guard state.stopping, state.active.isEmpty else { return [] }
            defer { state.idleWaiters = [] }
            return state.idleWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    var isStopping: Bool { self.state.withLockedValue { $0.stopping } }

    /// Refuses new transfers from now on; with `cancelRunning`, ends the running ones too.
    func stop(cancelRunning: Bool) {
        let (cancels, waiters) = self.state.withLockedValue {
            state -> ([@Sendable () -> Void], [CheckedContinuation<Void, Never>]) in
            state.stopping = true
            state.cancelling = state.cancelling || cancelRunning
            let cancels = cancelRunning ? Array(state.active.values) : []
            guard state.active.isEmpty else { return (cancels, []) }
            defer { state.idleWaiters = [] }
            return (cancels, state.idleWaiters)
        }
        for cancel in cancels { cancel() }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once ``stop(cancelRunning:)`` was called and no transfer is left.
    func waitUntilStoppedAndIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = self.state.withLockedValue { state -> Bool in
                if state.stopping && state.active.isEmpty { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
