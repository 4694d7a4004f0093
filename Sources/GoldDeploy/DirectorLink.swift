import Foundation
import GoldAPI
import GoldCore
import GoldHTTPClient

/// How a build/deploy server talks to the director: over HTTP with a `server` token, in one process or across hosts.
public struct DirectorLink: Sendable {
    public let url: String
    public let token: String

    public init(url: String, token: String) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.token = token
    }

    /// The boot script for `mac`, or nil when the director says the machine is not Gold's to boot.
    public func bootScript(mac: MACAddress, loader: String, filesURL: String, directorURL: String) async throws
        -> String?
    {
        let query = "mac=\(mac)&loader=\(loader)&files=\(Self.escape(filesURL))&director=\(Self.escape(directorURL))"
        let response = try await HTTPClient.send(
            "GET", "\(url)/v1/boot/script?\(query)",
            headers: [("Authorization", "Bearer \(token)")], timeout: .seconds(10))
        switch response.status {
        case 200: return response.text
        case 404: return nil
        default:
            throw GoldError(
                .unavailable,
                "the director answered \(response.status) for the boot script of \(mac): \(response.text.prefix(200))",
                at: url)
        }
    }

    public func reportFetches(_ fetches: [BootFetch]) async throws {
        let encoder = JSONEncoder()
        let body = try encoder.encode(fetches)
        let response = try await HTTPClient.send(
            "POST", "\(url)/v1/boot/fetches",
            headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")], body: Array(body),
            timeout: .seconds(10))
        guard response.status == 204 else {
            throw GoldError(
                .unavailable,
                "the director refused boot fetch reports (\(response.status)): \(response.text.prefix(200))", at: url)
        }
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? text
    }
}
