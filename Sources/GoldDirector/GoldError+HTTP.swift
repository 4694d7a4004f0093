import Foundation
import GoldAPI
import GoldCore
import Hummingbird

extension GoldError.Code {
    var status: HTTPResponse.Status {
        switch self {
        case .invalidInput: .badRequest
        case .notFound: .notFound
        case .conflict: .conflict
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .unavailable: .serviceUnavailable
        case .tooMany: .tooManyRequests
        case .tooLarge: .contentTooLarge
        default: .internalServerError
        }
    }
}

func errorResponse(status: HTTPResponse.Status, _ detail: ErrorBody.Detail) -> Response {
    let data = (try? DirectorJSON.encoder.encode(ErrorBody(error: detail))) ?? Data("{}".utf8)
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

extension GoldError: HTTPResponseError {
    public var status: HTTPResponse.Status { code.status }
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        errorResponse(status: status, .init(code: code.description, message: message, location: location))
    }
}

extension FleetValidationError: HTTPResponseError {
    public var status: HTTPResponse.Status { .unprocessableContent }
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        errorResponse(
            status: status, .init(code: "invalid input", message: description, problems: problems.map(\.description)))
    }
}
