import ArgumentParser
import Foundation
import GoldCore

extension Gold {
    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What happened: every change, who made it and when.")
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only events about this machine.") var machine: String?
        @Option(help: "Only events after this id.") var after: Int64 = 0
        @Option(help: "At most this many events (without --follow).") var limit: Int = 100
        @Flag(help: "Keep printing events as they happen.") var follow = false

        func validate() throws {
            guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let api = try client.client()
            var cursor = after
            repeat {
                var path = "/v1/events?after=\(cursor)&limit=\(follow ? 1000 : limit)"
                if let machine { path += "&machine=\(machine)" }
                if follow { path += "&wait=25" }
                let events = try await api.get(path, as: [Event].self, timeout: .seconds(40))
                for event in events {
                    if output.json {
                        let encoder = JSONEncoder()
                        encoder.outputFormatting = [.sortedKeys]
                        encoder.dateEncodingStrategy = .iso8601
                        print(String(decoding: try encoder.encode(event), as: UTF8.self))
                    } else {
                        let time = ISO8601DateFormatter().string(from: event.at)
                        print("\(event.id)  \(time)  \(event.kind)  \(event.machine ?? "-")  \(event.message)  [\(event.actor)]")
                    }
                    cursor = event.id
                }
                fflush(nil)
            } while follow
        }
    }
}
