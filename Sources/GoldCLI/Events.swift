import ArgumentParser
import Foundation
import GoldCore

extension Gold {
    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What happened: every change, who made it and when.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only events about this machine.") var machine: String?
        @Option(help: "Only events after this id, oldest first (default: the newest --limit events).") var after: Int64?
        @Option(
            name: [.customShort("n"), .long],
            help: "At most this many events (1-1000; with --follow, how many to show before following).")
        var limit: Int = 100
        @Flag(help: "Keep printing events as they happen.") var follow = false

        func validate() throws {
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1 to 1000") }
            if let after, after < 0 { throw ValidationError("--after must be an event id (0 or more)") }
        }

        func run() async throws {
            let api = try client.client()
            let machineQuery =
                machine.map { "&machine=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) }
                ?? ""
            // Without --after: the newest events first (like journalctl -n), then --follow carries on from the last.
            var cursor: Int64 = after ?? 0
            var first = after == nil
            repeat {
                let path: String
                if first {
                    path = "/v1/events?newest=\(limit)" + machineQuery
                } else {
                    path =
                        "/v1/events?after=\(cursor)&limit=\(follow ? 1000 : limit)" + machineQuery
                        + (follow ? "&wait=25" : "")
                }
                let events = try await api.get(path, as: [Event].self, timeout: .seconds(40))
                first = false
                for event in events {
                    if output.json {
                        let encoder = JSONEncoder()
                        encoder.outputFormatting = [.sortedKeys]
                        encoder.dateEncodingStrategy = .iso8601
                        print(String(decoding: try encoder.encode(event), as: UTF8.self))
                    } else {
                        let time = ISO8601DateFormatter().string(from: event.at)
                        print(
                            "\(event.id)  \(time)  \(event.kind)  \(event.machine ?? "-")  \(event.message)  [\(event.actor)]"
                        )
                    }
                    cursor = event.id
                }
                fflush(nil)
            } while follow
        }
    }
}
