import Hummingbird
import NIOCore

/// The deploy server's request context: it keeps the client's address to put fetches down to machines.
public struct DeployContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}
