import Synchronization

/// What the image endpoints sent since the process started, by kind of request: the byte counters a delta re-image
/// is measured with (`GET /metrics` on the deploy server, Prometheus text format).
public final class ImageServingCounters: Sendable {
    /// What a request under `/chunks/` or `/images/` asked for.
    public enum Kind: String, CaseIterable, Sendable {
        /// One chunk of the content-addressed store (the agent's delta writer).
        case chunk
        /// A version's manifest or a machine's version list.
        case manifest
        /// A whole raw disk, or a range of one (`curl | dd`).
        case disk

        /// The kind of a request path, nil for paths the image endpoints do not serve.
        public init?(path: String) {
            if path.hasPrefix("/chunks/") {
                self = .chunk
            } else if path.hasPrefix("/images/") {
                self = path.hasSuffix(".raw") ? .disk : .manifest
            } else {
                return nil
            }
        }
    }

    public struct Totals: Sendable, Equatable {
        public var requests = 0
        public var bytes = 0
    }

    private let totals = Mutex([Kind: Totals]())

    public init() {}

    /// One request answered (counted when its answer starts).
    public func request(_ kind: Kind) {
        totals.withLock { $0[kind, default: Totals()].requests += 1 }
    }

    /// Body bytes written to a client (counted as they go out, so a transfer cut short counts what was sent).
    public func sent(_ kind: Kind, bytes: Int) {
        totals.withLock { $0[kind, default: Totals()].bytes += bytes }
    }

    public func snapshot() -> [Kind: Totals] { totals.withLock { $0 } }

    /// The counters in Prometheus text format.
    public func prometheusText() -> String {
        let now = snapshot()
        var lines = [
            "# HELP gold_deploy_image_bytes_sent_total Body bytes the image endpoints sent, by kind.",
            "# TYPE gold_deploy_image_bytes_sent_total counter",
        ]
        for kind in Kind.allCases {
            lines.append("gold_deploy_image_bytes_sent_total{kind=\"\(kind.rawValue)\"} \(now[kind]?.bytes ?? 0)")
        }
        lines += [
            "# HELP gold_deploy_image_requests_total Requests the image endpoints answered, by kind.",
            "# TYPE gold_deploy_image_requests_total counter",
        ]
        for kind in Kind.allCases {
            lines.append("gold_deploy_image_requests_total{kind=\"\(kind.rawValue)\"} \(now[kind]?.requests ?? 0)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
