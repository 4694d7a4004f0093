import Foundation
import Glibc
import GoldCore
import GoldWorkflow

/// libFuzzer entry: JSON that crosses the network into Gold's model types. The first byte picks the type: the
/// agent's command list (`GET /v1/agent/commands`), a machine's spec (the agent's `GET /v1/machines/NAME/spec`, a
/// fleet machine), a kernel spec (a workflow's `kernel` input), a workflow event. A value that decodes must encode
/// and decode back to itself (a custom Codable that loses or invents a field is a bug), and a decoded machine goes
/// through the fleet validator, which must not trap on it. A trap is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let json = Data(UnsafeBufferPointer(start: data + 1, count: size - 1))
    switch data[0] % 4 {
    case 0:
        roundTrip([Command].self, json)
    case 1:
        if let machine = roundTrip(MachineSpec.self, json) {
            _ = FleetValidator.validate(Fleet(machines: [machine]))
        }
    case 2:
        roundTrip(KernelSpec.self, json)
    default:
        roundTrip(WorkflowEvent.self, json)
    }
    return 0
}

let explain = getenv("FUZZ_EXPLAIN") != nil

@discardableResult
func roundTrip<T: Codable & Equatable>(_ type: T.Type, _ json: Data) -> T? {
    let value: T
    do {
        value = try JSONDecoder().decode(type, from: json)
    } catch {
        // FUZZ_EXPLAIN=1 says why a seed does not decode (a seed that never decodes only tests the decoder's errors).
        if explain { print("\(type): \(error)") }
        return nil
    }
    if explain { print("\(type): decodes") }
    let encoded: Data
    do {
        encoded = try JSONEncoder().encode(value)
    } catch {
        fatalError("a decoded \(type) does not encode: \(error)")
    }
    let again: T
    do {
        again = try JSONDecoder().decode(type, from: encoded)
    } catch {
        fatalError("an encoded \(type) does not decode: \(error)\n\(String(decoding: encoded, as: UTF8.self))")
    }
    precondition(again == value, "\(type) changed in a round trip:\n\(value)\n\(again)")
    return value
}
