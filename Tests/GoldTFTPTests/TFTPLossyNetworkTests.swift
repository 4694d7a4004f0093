import NIOCore
import Testing

@testable import GoldTFTP

/// Runs the state machine against a simulated RFC 7440 receiver over a network that drops packets.
@Suite("TFTP read transfer over a lossy simulated network")
struct TFTPLossyNetworkTests {
    struct Scenario: CustomTestStringConvertible, Sendable {
        var size: Int
        var blockSize: Int
        var windowSize: Int
        var lossPercent: UInt64
        var seed: UInt64
        var testDescription: String {
            "\(self.size) bytes, blksize \(self.blockSize), window \(self.windowSize), \(self.lossPercent)% loss"
        }
    }

    static let scenarios: [Scenario] = [
        Scenario(size: 100_000, blockSize: 512, windowSize: 1, lossPercent: 10, seed: 1),
        Scenario(size: 100_000, blockSize: 512, windowSize: 1, lossPercent: 30, seed: 2),
        Scenario(size: 200_000, blockSize: 1468, windowSize: 16, lossPercent: 5, seed: 3),
        Scenario(size: 200_000, blockSize: 1468, windowSize: 16, lossPercent: 25, seed: 4),
        Scenario(size: 65 * 1024, blockSize: 1024, windowSize: 8, lossPercent: 0, seed: 5),
        Scenario(size: 8 * 70_000 + 3, blockSize: 8, windowSize: 7, lossPercent: 2, seed: 6),
    ]

    @Test("the client receives the file whole; duplicate ACKs never trigger a send", arguments: scenarios)
    func lossy(_ scenario: Scenario) {
        let file = pattern(scenario.size)
        var options = TFTPNegotiatedOptions()
        options.blockSize = scenario.blockSize
        options.windowSize = scenario.windowSize
        var harness = TransferHarness(
            file: file, options: options,
            configuration: .init(timeout: .seconds(1), retries: 50, readAheadBytes: 20_000), chunkSize: 7_777
        )
        var random = SplitMix64(state: scenario.seed)
        func lost() -> Bool { random.next() % 100 < scenario.lossPercent }

        var received: [UInt8] = []
        var expected: UInt16 = 1
        var inWindow = 0
        var clientDone = false
        var highestAck: Int64 = 0  // absolute, as the test tracks it
        var duplicateAckSends = 0

        harness.start()
        var rounds = 0
        while harness.outcome == nil && rounds < 5_000_000 {
            rounds += 1
            let packets = harness.take()
            if packets.isEmpty {
                harness.fireTimer()
                continue
            }
            var acks: [UInt16] = []
            for packet in packets where !lost() {
                guard case .data(let block, let payload) = packet else { continue }
                if block == expected && !clientDone {
                    received += payload.readableBytesView
                    expected &+= 1
                    inWindow += 1
                    if payload.readableBytes < scenario.blockSize {
                        clientDone = true
                        acks.append(block)
                    } else if inWindow == scenario.windowSize {
                        inWindow = 0
                        acks.append(block)
                    }
                } else {
                    inWindow = 0
                    acks.append(expected &- 1)  // RFC 7440 §4: acknowledge the last block received in order
                }
            }
            for ack in acks where !lost() {
                let absolute =
                    highestAck + Int64(UInt16(truncatingIfNeeded: ack &- UInt16(truncatingIfNeeded: highestAck)))
                let isDuplicate = ack == UInt16(truncatingIfNeeded: highestAck) || absolute > highestAck + 65535
                let before = harness.outbox.count
                harness.ack(ack)
                if isDuplicate && harness.outbox.count > before { duplicateAckSends += 1 }
                if !isDuplicate { highestAck = absolute }
                if harness.outcome != nil { break }
            }
        }
        #expect(harness.outcome == .completed)
        #expect(received.count == file.count)
        #expect(received == file)
        #expect(duplicateAckSends == 0)
        if scenario.lossPercent == 0 { #expect(harness.machine.statistics.retransmissions == 0) }
    }
}
