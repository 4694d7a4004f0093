import ArgumentParser
import Foundation
import GoldAPI
import GoldCore
import GoldServer

extension Gold {
    struct TokenCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "token", abstract: "Bearer tokens for people, servers and agents.",
            subcommands: [Create.self, List.self, Revoke.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a token; its secret is printed once.")
            @Option(help: "admin, operator, viewer, server or agent.") var role: Role
            @Option(help: "The machine an agent token is bound to.") var machine: String?
            @Option(help: "A label to recognise it by.") var label: String?
            @Flag(
                help:
                    "Write the token into the director's store directly, without the API (root on the director's host: the way back in when no admin token is left)."
            )
            var local = false
            @Option(help: ArgumentHelp("With --local: the director's configuration file.", valueName: "path"))
            var config = "/var/lib/gold/gold.yaml"
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions

            func validate() throws {
                if role == .agent && machine == nil { throw ValidationError("an agent token needs --machine") }
                if role != .agent && machine != nil { throw ValidationError("--machine goes only with --role agent") }
            }

            func run() async throws {
                if local {
                    let created = try await LocalTokens.create(
                        config: config, role: role, machine: machine, label: label)
                    if output.json {
                        return try printJSON(
                            CreatedToken(
                                id: created.id, token: created.token, role: role.rawValue, machine: machine,
                                label: created.label))
                    }
                    print(
                        "created \(created.id) (\(role.rawValue)) in the store of \(config); the secret is shown only now:"
                    )
                    print(created.token)
                    return
                }
                let api = try client.client()
                let body = try JSONEncoder().encode(TokenRequest(role: role.rawValue, machine: machine, label: label))
                let created = try api.decode(
                    CreatedToken.self, try await api.send("POST", "/v1/tokens", body: Array(body)))
                if output.json { return try printJSON(created) }
                print(
                    "created \(created.id) (\(created.role)\(created.machine.map { ", machine \($0)" } ?? "")); the secret is shown only now:"
                )
                print(created.token)
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
            @OptionGroup var client: ClientOptions
            @OptionGroup var output: OutputOptions

            func run() async throws {
                let tokens = try await client.client().get("/v1/tokens", as: [TokenView].self)
                if output.json { return try printJSON(tokens) }
                print(
                    table(
                        ["ID", "ROLE", "MACHINE", "LABEL", "STATUS"],
                        tokens.map {
                            [$0.id, $0.role, $0.machine ?? "-", $0.label, $0.revokedAt == nil ? "live" : "revoked"]
                        }))
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke a token by its id.")
            @Argument(help: "The token id (tok-…).") var id: String
            @OptionGroup var client: ClientOptions

            func run() async throws {
                _ = try await client.client().send("DELETE", "/v1/tokens/\(id)")
                print("revoked \(id)")
            }
        }
    }
}

extension Role: ExpressibleByArgument {}
