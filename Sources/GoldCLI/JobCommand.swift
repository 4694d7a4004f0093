import ArgumentParser
import Foundation
import GoldAPI

extension Gold {
    struct JobCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "job",
            abstract: "The compile server's jobs: kernels and binaries, cached by the hash of their inputs.",
            subcommands: [List.self, Show.self, Log.self, Cancel.self, Submit.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Every compile job, oldest first.")
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws {
                let jobs = try await client.client().get("/v1/jobs", as: [JobSummary].self)
                if output.json { return try printJSON(jobs) }
                print(
                    table(
                        ["KEY", "JOB", "STATE", "MACHINES", "WORKER", "DETAIL"],
                        jobs.map {
                            [
                                String($0.key.prefix(12)), $0.label, $0.state, $0.machines.joined(separator: ","),
                                $0.worker ?? "-", $0.detail ?? "",
                            ]
                        }))
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "One job (a unique key prefix is enough).")
            @Argument(help: "The job's key or a prefix of it.") var key: String
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws {
                let job = try await client.client().get("/v1/jobs/\(key)", as: JobSummary.self)
                if output.json { return try printJSON(job) }
                print(
                    """
                    \(job.label) (\(job.key))
                      state:    \(job.state)\(job.worker.map { " on \($0)" } ?? "")
                      machines: \(job.machines.joined(separator: ", "))
                      attempts: \(job.attempts)
                      detail:   \(job.detail ?? "-")
                      log:      \(job.logBytes) bytes (gold job log \(job.key.prefix(12)) --follow)
                    """)
            }
        }

        struct Log: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "A job's build log; --follow prints it as it grows until the job ends.")
            @Argument(help: "The job's key or a prefix of it.") var key: String
            @Flag(help: "Keep printing until the job ends.") var follow = false
            @OptionGroup var client: ClientOptions
            func run() async throws {
                let api = try client.client()
                var offset = 0
                while true {
                    let slice = try await api.get("/v1/jobs/\(key)/log?offset=\(offset)", as: JobLog.self)
                    print(slice.text, terminator: "")
                    fflush(nil)
                    offset = slice.next
                    if !follow || slice.finished { break }
                    try await Task.sleep(for: .seconds(2))
                }
            }
        }

        struct Submit: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "Build the kernels and binaries machines need now (e.g. before a rollout); cached builds are reused."
            )
            @Argument(help: "Machine names.") var machines: [String]
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions
            func run() async throws {
                let api = try client.client()
                let body = Array(try JSONEncoder().encode(SubmitJobs(machines: machines)))
                let jobs = try api.decode([JobSummary].self, try await api.send("POST", "/v1/jobs", body: body))
                if output.json { return try printJSON(jobs) }
                print(
                    table(
                        ["KEY", "JOB", "STATE", "MACHINES"],
                        jobs.map {
                            [String($0.key.prefix(12)), $0.label, $0.state, $0.machines.joined(separator: ",")]
                        }))
            }
        }

        struct Cancel: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Stop a queued or building job.")
            @Argument(help: "The job's key or a prefix of it.") var key: String
            @OptionGroup var client: ClientOptions
            func run() async throws {
                let api = try client.client()
                let job = try api.decode(
                    JobSummary.self, try await api.send("POST", "/v1/jobs/\(key)/cancel", body: nil))
                print("\(job.label): \(job.state)")
            }
        }
    }
}
