import GoldHTTPClient

/// The HTTP client the deploy server uses for the director (a seam for tests).
enum GoldHTTPClientBridge {
    static func send(
        _ method: String, _ url: String, headers: [(String, String)], body: [UInt8]?, timeout: Duration = .seconds(60)
    ) async throws
        -> HTTPClientResponse
    {
        try await HTTPClient.send(method, url, headers: headers, body: body, timeout: timeout)
    }
}
