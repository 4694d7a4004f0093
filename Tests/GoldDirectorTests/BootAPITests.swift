import Foundation
import GoldCore
import GoldHTTPClient
import Testing

@Suite(.serialized) struct BootAPITests {
    let query = "files=http://10.77.0.1:8081/boot/files&director=http://10.77.0.1:8081"

    @Test func localDiskUntilNetbootOnceThenBackAfterCheckIn() async throws {
        try await DirectorHarness.with { (d: DirectorHarness) async throws in
            let disk = try await d.call("GET", "/v1/boot/script?mac=52-54-00-00-00-01&\(query)", as: "server")
            #expect(disk.status == 200)
            #expect(disk.text.contains("exit"))

            #expect(
                try await d.call(
                    "PUT", "/v1/machines/web-01/next-boot", as: "operator", body: #"{"nextBoot":"once:deploy"}"#
                ).status == 204)
            let script = try await d.call("GET", "/v1/boot/script?mac=52:54:00:00:00:01&\(query)", as: "server")
            #expect(script.text.contains("kernel http://10.77.0.1:8081/boot/files/netboot/vmlinuz initrd=initrd.img"))
            #expect(script.text.contains("gold.machine=web-01"))
            #expect(script.text.contains("BOOTIF=01-52-54-00-00-00-01"))
            let token = try #require(
                script.text.split(separator: " ").first { $0.hasPrefix("gold.token=") }?.dropFirst("gold.token=".count))

            // The enrolment token works only for its machine.
            #expect(
                try await d.call(
                    "POST", "/v1/machines/web-02/check-in", token: String(token), body: #"{"inventory":{}}"#
                ).status == 403)
            let checkIn = try await d.call(
                "POST", "/v1/machines/web-01/check-in", token: String(token), body: #"{"inventory":{"memoryBytes":1}}"#)
            #expect(checkIn.status == 200, "\(checkIn.text)")
            #expect(checkIn.text.contains(#""nextBoot":"disk""#))
            #expect(checkIn.text.contains(#""mode":"deploy""#))
            // …and only once: a second boot of the same script cannot check in again.
            #expect(
                try await d.call(
                    "POST", "/v1/machines/web-01/check-in", token: String(token), body: #"{"inventory":{}}"#
                ).status == 401)
            // The session token it got works for that machine's reports.
            struct Session: Decodable { var token: String }
            let session = try JSONDecoder().decode(Session.self, from: Data(checkIn.body))
            #expect(
                try await d.call("PUT", "/v1/machines/web-01/inventory", token: session.token, body: "{}").status == 204
            )
            // The machine boots from disk again: no installer loop.
            #expect(
                try await d.call("GET", "/v1/boot/script?mac=52:54:00:00:00:01&\(query)", as: "server").text.contains(
                    "exit"))
        }
    }

    @Test func forgedAndMalformedEnrolmentTokensAre401() async throws {
        try await DirectorHarness.with { (d: DirectorHarness) async throws in
            let forged = EnrolmentToken(machine: "web-01", expires: 4_000_000_000, generation: 0).sign(
                key: Array(repeating: 7, count: 32))
            #expect(
                try await d.call("POST", "/v1/machines/web-01/check-in", token: forged, body: #"{"inventory":{}}"#)
                    .status == 401)
            #expect(
                try await d.call("POST", "/v1/machines/web-01/check-in", token: "gold_enr.web-01", body: "{}").status
                    == 401)
            // A long-lived agent token is not an enrolment token.
            #expect(
                try await d.call("POST", "/v1/machines/web-01/check-in", as: "agent-web-01", body: #"{"inventory":{}}"#)
                    .status == 403)
        }
    }

    @Test func pxelinuxAndGrubAndBadInput() async throws {
        try await DirectorHarness.with { (d: DirectorHarness) async throws in
            #expect(
                try await d.call("GET", "/v1/boot/script?mac=52:54:00:00:00:01&loader=pxelinux&\(query)", as: "server")
                    .text.contains("LOCALBOOT 0"))
            _ = try await d.call(
                "PUT", "/v1/machines/web-02/next-boot", as: "operator", body: #"{"nextBoot":"always:rescue"}"#)
            let grub = try await d.call(
                "GET", "/v1/boot/script?mac=52:54:00:00:00:02&loader=grub&\(query)", as: "server")
            #expect(grub.text.contains("linux /netboot/vmlinuz") && grub.text.contains("gold.mode=rescue"))
            #expect(try await d.call("GET", "/v1/boot/script?mac=nope&\(query)", as: "server").status == 400)
            #expect(
                try await d.call("GET", "/v1/boot/script?mac=52:54:00:00:00:01&loader=efi&\(query)", as: "server")
                    .status == 400)
            #expect(
                try await d.call("GET", "/v1/boot/script?mac=52:54:00:99:99:99&\(query)", as: "server").status == 404)
            #expect(
                try await d.call("GET", "/v1/boot/script?mac=52:54:00:00:00:01&\(query)", as: "viewer").status == 403)
            let bad = try await d.call(
                "PUT", "/v1/machines/web-01/next-boot", as: "operator", body: #"{"nextBoot":"twice:deploy"}"#)
            #expect(bad.status == 400 && bad.text.contains("body.nextBoot"))
        }
    }

    @Test func fetchesBecomeMachineEvents() async throws {
        try await DirectorHarness.with { (d: DirectorHarness) async throws in
            let body =
                #"[{"mac":"52:54:00:00:00:02","address":"10.77.0.12","file":"undionly.kpxe","protocolName":"tftp","bytes":70000,"outcome":"ok","durationMilliseconds":40}]"#
            #expect(try await d.call("POST", "/v1/boot/fetches", as: "server", body: body).status == 204)
            let events = try await d.store.events(after: 0, machine: "web-02", limit: 100)
            #expect(events.contains { $0.kind == "boot.fetch" && $0.message.contains("undionly.kpxe") })
        }
    }
}
