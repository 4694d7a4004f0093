import NIOCore
import Testing

@testable import GoldTFTP

@Suite("TFTP read transfer state machine")
struct TFTPReadTransferTests {
    @Test("lock-step transfer, final block short or empty", arguments: [0, 1, 511, 512, 513, 1024, 1300])
    func lockStep(size: Int) {
        let file = pattern(size)
        var harness = TransferHarness(file: file)
        harness.start()
        var received: [UInt8] = []
        var expectedBlock: UInt16 = 1
        while harness.outcome == nil {
            let sent = harness.take()
            #expect(sent.count == 1)
            guard let packet = sent.first, let block = packet.dataBlock, let payload = packet.dataPayload else {
                Issue.record("expected one DATA packet, got \(sent)")
                return
            }
            #expect(block == expectedBlock)
            received += payload
            harness.ack(block)
            expectedBlock &+= 1
        }
        #expect(harness.outcome == .completed)
        #expect(received == file)
        #expect(Int(expectedBlock) - 1 == size / 512 + 1)
        #expect(harness.machine.bytesAcknowledged == size)
    }

    @Test("duplicate ACKs never cause a send (no Sorcerer's Apprentice)")
    func duplicateAcks() {
        var harness = TransferHarness(file: pattern(2000))
        harness.start()
        #expect(harness.take().map(\.dataBlock) == [1])
        harness.ack(1)
        #expect(harness.take().map(\.dataBlock) == [2])
        harness.ack(1)
        harness.ack(1)
        harness.ack(0)
        #expect(harness.take().isEmpty)
        harness.ack(2)
        #expect(harness.take().map(\.dataBlock) == [3])
        harness.ack(2)
        #expect(harness.take().isEmpty)
        #expect(harness.machine.statistics.retransmissions == 0)
    }

    @Test("lost DATA: the timer retransmits the same block")
    func lostData() {
        var harness = TransferHarness(file: pattern(1200))
        harness.start()
        let first = harness.take()
        let deadline = harness.timerAt
        #expect(deadline != nil)
        harness.fireTimer()
        #expect(harness.take() == first)
        harness.ack(1)
        #expect(harness.take().map(\.dataBlock) == [2])
        #expect(harness.machine.statistics.retransmissions == 1)
    }

    @Test("lost ACK: retransmission, then the late duplicate ACK is ignored")
    func lostAck() {
        var harness = TransferHarness(file: pattern(1200))
        harness.start()
        _ = harness.take()
        harness.ack(1)
        let block2 = harness.take()
        harness.fireTimer()  // the ACK of block 2 was lost
        #expect(harness.take() == block2)
        harness.ack(2)  // the client acknowledges the retransmission
        #expect(harness.take().map(\.dataBlock) == [3])
        harness.ack(2)  // the first ACK of block 2 arrives late
        #expect(harness.take().isEmpty)
        harness.ack(3)
        #expect(harness.outcome == .completed)
    }

    @Test("a timer firing early only reschedules")
    func earlyTimer() {
        var harness = TransferHarness(file: pattern(100))
        harness.start()
        _ = harness.take()
        let deadline = harness.timerAt!
        let actions = harness.machine.timerFired(now: deadline - .milliseconds(1))
        #expect(actions == [.scheduleTimer(at: deadline)])
    }

    @Test("retries are bounded, then the transfer times out", arguments: [0, 1, 3])
    func retryExhaustion(retries: Int) {
        var harness = TransferHarness(
            file: pattern(100), configuration: .init(timeout: .milliseconds(500), retries: retries))
        harness.start()
        #expect(harness.take().count == 1)
        for _ in 0..<retries {
            harness.fireTimer()
            #expect(harness.take().map(\.dataBlock) == [1])
        }
        harness.fireTimer()
        #expect(harness.take().isEmpty)
        #expect(harness.outcome == .timedOut)
        #expect(harness.timerAt == nil)
    }

    @Test("the client's timeout option sets the retransmission interval")
    func negotiatedTimeout() throws {
        let request = TFTPRequest(filename: "f", mode: .octet, options: [.init("timeout", "7")])
        let options = try TFTPNegotiatedOptions.negotiate(request, policy: TFTPOptionPolicy(), fileSize: 10)
        var harness = TransferHarness(file: pattern(10), options: options)
        let start = harness.now
        harness.start()
        #expect(harness.timerAt == start + .seconds(7))
    }

    @Test("block numbers wrap 65535 -> 0 and a file past 65535 blocks transfers whole")
    func rollover() {
        let file = pattern(65536 * 512 + 1)
        var harness = TransferHarness(file: file, chunkSize: 1 << 20)
        harness.start()
        var received: [UInt8] = []
        received.reserveCapacity(file.count)
        var blocks: [UInt16] = []
        while harness.outcome == nil {
            let sent = harness.take()
            guard sent.count == 1, let block = sent[0].dataBlock else {
                Issue.record("expected one DATA, got \(sent.count) packets")
                return
            }
            blocks.append(block)
            received += sent[0].dataPayload!
            harness.ack(block)
        }
        #expect(blocks.count == 65537)
        #expect(Array(blocks[65533...]) == [65534, 65535, 0, 1])
        #expect(received.count == file.count)
        #expect(received == file)
        #expect(harness.outcome == .completed)
    }

    @Test("after wrapping, an ACK for block 0 does not repeat anything")
    func rolloverDuplicate() {
        var harness = TransferHarness(file: pattern(65540 * 8), options: options(blockSize: 8), chunkSize: 1 << 16)
        harness.start()
        var block: UInt16 = 1
        for _ in 0..<65537 {
            _ = harness.take()
            harness.ack(block)
            block &+= 1
        }
        #expect(harness.take().map(\.dataBlock) == [2])  // absolute block 65538
        harness.ack(0)  // duplicate of the ACK of absolute block 65536
        harness.ack(65535)
        #expect(harness.take().isEmpty)
    }

    @Test("windowed sending: a window per ACK of its last block")
    func windows() {
        var harness = TransferHarness(file: pattern(10 * 512 + 100), options: options(windowSize: 4))
        harness.start()
        #expect(harness.take().map(\.dataBlock) == [1, 2, 3, 4])
        harness.ack(4)
        #expect(harness.take().map(\.dataBlock) == [5, 6, 7, 8])
        harness.ack(8)
        #expect(harness.take().map(\.dataBlock) == [9, 10, 11])  // 11 is the final short block
        harness.ack(11)
        #expect(harness.outcome == .completed)
        #expect(harness.machine.bytesAcknowledged == 10 * 512 + 100)
    }

    @Test("windowed sending: an ACK inside the window restarts after it; duplicates are ignored")
    func windowRestart() {
        var harness = TransferHarness(file: pattern(20 * 512), options: options(windowSize: 4))
        harness.start()
        #expect(harness.take().map(\.dataBlock) == [1, 2, 3, 4])
        harness.ack(2)  // block 3 was lost; the client acknowledges what it has
        #expect(harness.take().map(\.dataBlock) == [3, 4, 5, 6])
        harness.ack(2)
        harness.ack(2)
        #expect(harness.take().isEmpty)
        harness.ack(6)
        #expect(harness.take().map(\.dataBlock) == [7, 8, 9, 10])
        harness.fireTimer()  // whole window lost
        #expect(harness.take().map(\.dataBlock) == [7, 8, 9, 10])
    }

    @Test("OACK flow: data waits for ACK 0; OACK retransmitted; ERROR 8 aborts")
    func optionAck() throws {
        let request = TFTPRequest(
            filename: "f", mode: .octet, options: [.init("blksize", "1024"), .init("tsize", "0")])
        let options = try TFTPNegotiatedOptions.negotiate(request, policy: TFTPOptionPolicy(), fileSize: 3000)
        var harness = TransferHarness(file: pattern(3000), options: options)
        harness.start()
        let oack = TFTPPacket.optionAck([.init("blksize", "1024"), .init("tsize", "3000")])
        #expect(harness.take() == [oack])
        harness.ack(1)  // nonsense before ACK 0
        #expect(harness.take().isEmpty)
        harness.fireTimer()
        #expect(harness.take() == [oack])
        harness.ack(0)
        let first = harness.take()
        #expect(first.map(\.dataBlock) == [1])
        #expect(first.first?.dataPayload?.count == 1024)

        var refused = TransferHarness(file: pattern(3000), options: options)
        refused.start()
        refused.receive(.error(code: .optionNegotiationRefused, message: "no thanks"))
        #expect(refused.outcome == .abortedByClient(.optionNegotiationRefused, "no thanks"))
        #expect(refused.take() == [oack])
    }

    @Test("an ERROR from the client aborts mid-transfer; DATA from the client is an illegal operation")
    func clientErrors() {
        var harness = TransferHarness(file: pattern(3000))
        harness.start()
        harness.ack(1)
        harness.receive(.error(code: .notDefined, message: "user cancelled"))
        #expect(harness.outcome == .abortedByClient(.notDefined, "user cancelled"))

        var violator = TransferHarness(file: pattern(3000))
        violator.start()
        _ = violator.take()
        violator.receive(.data(block: 1, payload: ByteBuffer()))
        #expect(
            violator.take().first
                == .error(code: .illegalOperation, message: "unexpected data packet in a read transfer"))
        if case .protocolViolation = violator.outcome {
        } else {
            Issue.record("outcome \(String(describing: violator.outcome))")
        }
    }

    @Test("a duplicate RRQ from the client is ignored")
    func duplicateRequest() {
        var harness = TransferHarness(file: pattern(3000))
        harness.start()
        _ = harness.take()
        harness.receive(.readRequest(TFTPRequest(filename: "f", mode: .octet)))
        #expect(harness.take().isEmpty)
        #expect(harness.outcome == nil)
    }

    @Test("data arriving late: nothing is sent or timed until the disk answers")
    func slowDisk() {
        var harness = TransferHarness(file: pattern(700))
        harness.autoRead = false
        harness.start()
        #expect(harness.take().isEmpty)
        #expect(harness.timerAt == nil)
        #expect(harness.pendingRead)
        harness.supplyRead()
        #expect(harness.take().map(\.dataBlock) == [1])
        #expect(harness.timerAt != nil)
    }

    @Test("a read failure sends ERROR 0 and ends the transfer")
    func readFailure() {
        var harness = TransferHarness(file: pattern(700))
        harness.autoRead = false
        harness.start()
        harness.execute(harness.machine.readFailed("EIO", now: harness.now))
        #expect(harness.take() == [.error(code: .notDefined, message: "read error")])
        #expect(harness.outcome == .readFailed("EIO"))
    }

    @Test("netascii mode converts line ends as it sends")
    func netascii() {
        var harness = TransferHarness(file: Array("one\ntwo\r".utf8), mode: .netascii)
        harness.start()
        #expect(harness.take().first?.dataPayload == Array("one\r\ntwo\r\0".utf8))
    }

    @Test("cancel ends the transfer without sending")
    func cancel() {
        var harness = TransferHarness(file: pattern(700))
        harness.start()
        _ = harness.take()
        harness.execute(harness.machine.cancel())
        #expect(harness.outcome == .cancelled)
        #expect(harness.take().isEmpty)
    }
}

func options(blockSize: Int = 512, windowSize: Int = 1) -> TFTPNegotiatedOptions {
    var options = TFTPNegotiatedOptions()
    options.blockSize = blockSize
    options.windowSize = windowSize
    return options
}
