import GoldTFTP
import Logging
import NIOCore
import NIOPosix

/// What every handler of one server shares.
struct TFTPServerContext: Sendable {
    let configuration: TFTPServerConfiguration
    let fileSource: any TFTPFileSource
    let observer: TFTPTransferObserver?
    let logger: Logger
    let registry: TransferRegistry
    let group: any EventLoopGroup
    let threadPool: NIOThreadPool
    /// Shared file contents (nil when ``TFTPServerConfiguration/fileCacheBytes`` is 0).
    let fileCache: TFTPFileCache?
    /// Threads for lock-step transfers (``TFTPServerConfiguration/lockStepThreads``).
    let lockStepSlots: TFTPLockStepSlots

    /// Reports a record to the observer and the log.
    func report(_ record: TFTPTransferRecord) {
        var metadata: Logger.Metadata = [
            "tftp.client": "\(record.client)",
            "tftp.file": "\(record.requestedFilename)",
            "tftp.bytes": "\(record.bytesSent)",
            "tftp.outcome": "\(record.outcome)",
        ]
        if let options = record.options {
            metadata["tftp.blksize"] = "\(options.blockSize)"
            metadata["tftp.windowsize"] = "\(options.windowSize)"
        }
        switch record.outcome {
        case .completed:
            self.logger.info("TFTP transfer completed", metadata: metadata)
        case .refused:
            self.logger.warning("TFTP request refused", metadata: metadata)
        default:
            self.logger.notice("TFTP transfer ended early", metadata: metadata)
        }
        self.observer?(record)
    }
}
