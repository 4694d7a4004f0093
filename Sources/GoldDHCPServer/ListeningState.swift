import NIOCore
import Synchronization

/// A one-shot "the sockets are bound" signal that any number of callers can await.
final class ListeningState: Sendable {
    private enum State {
        case waiting([CheckedContinuation<[SocketAddress], any Error>])
        case listening([SocketAddress])
        case failed(any Error)
    }

    private let state = Mutex(State.waiting([]))

    func wait() async throws -> [SocketAddress] {
        try await withCheckedThrowingContinuation { continuation in
            let immediate: Result<[SocketAddress], any Error>? = state.withLock { state in
                switch state {
                case .waiting(let list):
                    state = .waiting(list + [continuation])
                    return nil
                case .listening(let addresses):
                    return .success(addresses)
                case .failed(let error):
                    return .failure(error)
                }
            }
            if let immediate { continuation.resume(with: immediate) }
        }
    }

    func succeed(_ addresses: [SocketAddress]) {
        resolve(.listening(addresses), with: .success(addresses))
    }

    func fail(_ error: any Error) {
        resolve(.failed(error), with: .failure(error))
    }

    private func resolve(_ final: State, with result: Result<[SocketAddress], any Error>) {
        let waiting: [CheckedContinuation<[SocketAddress], any Error>] = state.withLock { state in
            guard case .waiting(let list) = state else { return [] }
            state = final
            return list
        }
        for continuation in waiting { continuation.resume(with: result) }
    }
}
