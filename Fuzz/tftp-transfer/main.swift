import FuzzSupport
import Glibc
import GoldTFTP
import NIOCore

/// libFuzzer entry: one read transfer (the server's state machine) driven by a random sequence of events: ACKs of
/// any block number, of the newest block sent, of a block inside the window; timer expiries with the clock moving
/// on; file data arriving in chunks of any size, or a read failing; arbitrary datagrams; cancellation. The first
/// bytes choose the file's length, the block size (8 to 1468), the window (1 to 65535), netascii or octet and
/// whether an OACK opens the transfer.
///
/// Checked after every step: a `.finished` comes once and nothing follows it; file data is never asked for while
/// a read is outstanding; every DATA packet carries exactly the file's bytes for its block (whose absolute number is
/// recovered from the acknowledged count and the window); a completed transfer acknowledged the whole file. A trap
/// is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzScript(Array(UnsafeBufferPointer(start: data, count: size)))
    guard let a = input.byte(), let b = input.byte(), let c = input.byte() else { return 0 }
    let blockSizes = [8, 9, 512, 513, 1428, 1468, 16, 100]
    let windows = [1, 1, 2, 4, 16, 64, 4096, 65535]
    var options = TFTPNegotiatedOptions()
    options.blockSize = blockSizes[Int(a % 8)]
    options.windowSize = windows[Int((a >> 3) % 8)]
    if a & 0x40 != 0 {
        options.timeoutSeconds = Int(b % 5) + 1
        options.acknowledged = [TFTPOption("blksize", "\(options.blockSize)")]
    }
    // Up to ~1 MiB with 8-byte blocks is past 65535 blocks: the wire numbers wrap. The bytes are a prefix of one
    // array made once (an input costs what its events cost, not a megabyte's allocation); netascii, whose
    // expected stream is encoded per input, only for files up to 64 KiB.
    // Most files are small (up to 16 KiB: cheap inputs, many of them); b's top bit asks for a large one.
    let length = b & 0x80 != 0 ? Int(b & 0x7f) << 13 | Int(c) << 5 | Int(c & 0x1f) : Int(b) << 7 | Int(c >> 1)
    let mode: TFTPMode = a & 0x80 != 0 && length <= 1 << 16 ? .netascii : .octet
    let file = master[0..<length]
    let sent: ArraySlice<UInt8>
    if mode == .netascii {
        var encoded = NetASCII.encode(ByteBuffer(bytes: file))
        sent = (encoded.readBytes(length: encoded.readableBytes) ?? [])[...]
    } else {
        sent = file
    }
    var transfer = TFTPReadTransfer(
        options: options, mode: mode, configuration: .init(timeout: .seconds(1), retries: 3, readAheadBytes: 4096))
    var model = Model(transfer: transfer, sent: sent)
    let start = ContinuousClock.now
    var now = start
    model.absorb(transfer.start(now: now), transfer: transfer)
    var fileOffset = 0

    while let operation = input.byte(), !model.finished, model.packets < 70_000 {
        var actions: [TFTPReadTransfer.Action] = []
        switch operation % 10 {
        case 0, 1:
            actions = transfer.receive(.ack(block: input.u16()), now: now)
        case 2, 3:
            actions = transfer.receive(.ack(block: UInt16(truncatingIfNeeded: model.newestBlock)), now: now)
        case 4:
            let acked = Int64(transfer.bytesAcknowledged / options.blockSize)
            let step = Int64(input.byte() ?? 1) % Int64(options.windowSize) + 1
            actions = transfer.receive(.ack(block: UInt16(truncatingIfNeeded: acked + step)), now: now)
        case 5:
            now += .milliseconds(Int(input.byte() ?? 0) * 40)
            actions = transfer.timerFired(now: now)
        case 6, 7:
            guard model.readOutstanding else { continue }
            let want = (Int(input.byte() ?? 0) + 1) * (operation % 10 == 6 ? 7 : 613)
            let end = min(file.count, fileOffset + want)
            let chunk = ByteBuffer(bytes: file[fileOffset..<end])
            fileOffset = end
            model.readOutstanding = false
            actions = transfer.receiveData(chunk, endOfFile: end == file.count, now: now)
        case 8:
            let count = Int(input.byte() ?? 0) % 40
            if let packet = try? TFTPPacket.parse(ByteBuffer(bytes: input.bytes(count))) {
                actions = transfer.receive(packet, now: now)
            }
        default:
            let choice = input.byte() ?? 0
            if choice == 0xff {
                actions = transfer.cancel()
            } else if choice == 0xfe, model.readOutstanding {
                model.readOutstanding = false
                actions = transfer.readFailed("injected", now: now)
            } else if choice == 0xfd {
                actions = transfer.receive(.error(code: .diskFull, message: "client gives up"), now: now)
            }
        }
        model.absorb(actions, transfer: transfer)
    }
    if !model.finished {
        precondition(transfer.bytesAcknowledged <= sent.count, "acknowledged more than the file")
    }
    return 0
}

/// The file's bytes: every input's file is a prefix.
let master: [UInt8] = (0..<(1 << 20) + (1 << 16)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }

/// What the fuzzer knows of the transfer from its actions alone.
struct Model {
    let blockSize: Int
    let window: Int
    let sent: ArraySlice<UInt8>
    var finished = false
    var readOutstanding = false
    /// Absolute number of the newest block sent.
    var newestBlock: Int64 = 0
    /// DATA packets seen; an input stops after 70,000, just past a wrap of the block numbers (a window of 65535
    /// 8-byte blocks sends that many per ACK; the fuzzer's time is better spent on more inputs than on one long one).
    var packets = 0

    init(transfer: TFTPReadTransfer, sent: ArraySlice<UInt8>) {
        blockSize = transfer.options.blockSize
        window = transfer.options.windowSize
        self.sent = sent
    }

    mutating func absorb(_ actions: [TFTPReadTransfer.Action], transfer: TFTPReadTransfer) {
        let acked = Int64(transfer.bytesAcknowledged / blockSize)
        for action in actions {
            precondition(!finished, "an action after .finished: \(action)")
            switch action {
            case .readData:
                precondition(!readOutstanding, "file data asked for twice")
                readOutstanding = true
            case .send(.data(let wire, let payload)):
                // The block's absolute number: the first one after the acknowledged ones with these low 16 bits.
                let first = acked + 1
                let block = first + Int64(UInt16(truncatingIfNeeded: Int64(wire) - first))
                precondition(block - acked <= Int64(window), "block \(block) outside the window after \(acked)")
                let offset = Int(block - 1) * blockSize
                precondition(offset <= sent.count, "block \(block) starts past the end of the file")
                let expected = sent[offset..<min(sent.count, offset + blockSize)]
                precondition(payload.readableBytes <= blockSize, "a DATA packet larger than the block size")
                // memcmp: a Swift loop here is instrumented byte by byte and took most of the fuzzer's time.
                let same = payload.readableBytes == expected.count && payload.withUnsafeReadableBytes { got in
                    expected.withUnsafeBytes { want in got.count == 0 || memcmp(got.baseAddress!, want.baseAddress!, got.count) == 0 }
                }
                precondition(same, "block \(block) carries the wrong bytes")
                packets += 1
                newestBlock = max(newestBlock, block)
            case .send(.optionAck), .send(.error), .scheduleTimer:
                break
            case .send(let other):
                preconditionFailure("a read transfer sent \(other)")
            case .finished(let outcome):
                finished = true
                if case .completed = outcome {
                    precondition(transfer.bytesAcknowledged == sent.count,
                                 "completed with \(transfer.bytesAcknowledged) of \(sent.count) bytes acknowledged")
                }
            }
        }
    }
}

