import ArgumentParser
import Foundation
import GoldAPI
import GoldCore
import GoldHTTPClient

/// How a command reaches the director.
struct ClientOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The director's URL (or GOLD_DIRECTOR).", valueName: "url"))
    var director: String?

    @Option(help: ArgumentHelp("A bearer token (or GOLD_TOKEN).", valueName: "token"))
    var token: String?

    @Option(
        help: ArgumentHelp(
            "A file holding the token (or GOLD_TOKEN_FILE; default: /var/lib/gold/admin.token).", valueName: "path"))
    var tokenFile: String?

    var directorURL: String {
        var url = director ?? ProcessInfo.processInfo.environment["GOLD_DIRECTOR"] ?? "http://127.0.0.1:8080"
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    func resolvedToken() throws -> String {
        let env = ProcessInfo.processInfo.environment
        if let token = token ?? env["GOLD_TOKEN"] { return token }
        let path = tokenFile ?? env["GOLD_TOKEN_FILE"] ?? "/var/lib/gold/admin.token"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            var hint =
                "no token: \(path) cannot be read. Pass --token-file PATH (or set GOLD_TOKEN_FILE), or --token (GOLD_TOKEN); "
                + "'gold init' writes /var/lib/gold/admin.token"
            if FileManager.default.isReadableFile(atPath: "/var/lib/gold/lab/env") {
                hint += "; for the lab: . /var/lib/gold/lab/env"
            }
            throw GoldError(.unauthorized, hint)
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func client() throws -> DirectorClient {
        DirectorClient(baseURL: directorURL, token: try resolvedToken())
    }
}

/// `--json` for scripts.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of a table.")
    var json = false
}

/// Calls the director's API and turns its error bodies back into one-line errors.
struct DirectorClient: Sendable {
    let baseURL: String
    let token: String

    func get<T: Decodable>(_ path: String, as type: T.Type, timeout: Duration = .seconds(30)) async throws -> T {
        try decode(T.self, try await send("GET", path, timeout: timeout))
    }

    func send(
        _ method: String, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json",
        headers extra: [(String, String)] = [], timeout: Duration = .seconds(30)
    ) async throws -> HTTPClientResponse {
        var response: HTTPClientResponse?
        // Reads are retried on a dropped connection (a busy director, a restart); writes are not.
        let tries = method == "GET" ? 4 : 1
        for attempt in 1...tries {
            do {
                response = try await HTTPClient.send(
                    method, baseURL + path,
                    headers: [
                        ("Authorization", "Bearer \(token)"), ("Content-Type", contentType),
                        ("Accept", "application/json"),
                    ] + extra,
                    body: body, timeout: timeout)
                break
            } catch let error as HTTPClientError {
                if attempt == tries {
                    // The hint only where nothing answered; a connection that closed mid-request reached a director.
                    let hint = error.message.hasPrefix("cannot connect") ? "; is 'gold serve' running?" : ""
                    throw GoldError(.unavailable, "cannot reach the director: \(error.message)\(hint)", at: error.url)
                }
            } catch {
                if attempt == tries {
                    throw GoldError(.unavailable, "the connection to the director failed: \(error)", at: baseURL + path)
                }
            }
            try await Task.sleep(for: .seconds(attempt))
        }
        guard let response else { throw GoldError(.unavailable, "no answer from the director", at: baseURL + path) }
        guard (200..<300).contains(response.status) else { throw Self.error(from: response) }
        return response
    }

    func decode<T: Decodable>(_ type: T.Type, _ response: HTTPClientResponse) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(T.self, from: Data(response.body))
        } catch {
            throw GoldError(.internalError, "the director sent a response this CLI cannot read: \(error)")
        }
    }

    static func error(from response: HTTPClientResponse) -> GoldError {
        let code: GoldError.Code =
            switch response.status {
            case 400, 422: .invalidInput
            case 401: .unauthorized
            case 403: .forbidden
            case 404: .notFound
            case 409: .conflict
            default: .internalError
            }
        guard let body = try? JSONDecoder().decode(ErrorBody.self, from: Data(response.body)) else {
            return GoldError(code, "the director answered \(response.status): \(response.text.prefix(200))")
        }
        if let problems = body.error.problems, problems.count > 1 {
            return GoldError(code, "\(problems.count) problems:\n" + problems.joined(separator: "\n"))
        }
        // `path.name`, `query.limit` are for API clients; the message already names the machine or value for a person.
        let location = body.error.location.flatMap { $0.hasPrefix("path.") || $0.hasPrefix("query.") ? nil : $0 }
        return GoldError(
            code, body.error.problems?.first ?? body.error.message, at: body.error.problems == nil ? location : nil)
    }
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// "1 machine", "2 machines".
func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }

/// A plain text table with a header row; columns as wide as their widest cell.
func table(_ header: [String], _ rows: [[String]]) -> String {
    let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    return ([header] + rows).map { row in
        // Only trailing blanks go: a cell may start with one (the image list's " 1" beside "*2").
        String(
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(
                separator: "  "
            )
            .reversed().drop { $0 == " " }.reversed())
    }.joined(separator: "\n")
}
