import Foundation
import GoldPKI
import Testing
import X509

@Suite struct AuthorityTests {
    @Test func aServerCertificateVerifiesForItsNamesOnly() async throws {
        let ca = try CertificateAuthority.create(name: "Gold CA (test)")
        let names = try ServerNames(["gold-director", "10.77.255.1", "127.0.0.1", "::1"])
        let server = try ca.issueServer(for: names)
        #expect(await ca.verifies(serverCertificatePEM: server.certificatePEM, host: "10.77.255.1"))
        #expect(await ca.verifies(serverCertificatePEM: server.certificatePEM, host: "gold-director"))
        #expect(await ca.verifies(serverCertificatePEM: server.certificatePEM, host: "::1"))
        #expect(!(await ca.verifies(serverCertificatePEM: server.certificatePEM, host: "10.77.0.1")))
        #expect(!(await ca.verifies(serverCertificatePEM: server.certificatePEM, host: "evil.example")))
    }

    @Test func anotherAuthoritysCertificateIsRefused() async throws {
        let ca = try CertificateAuthority.create(name: "Gold CA")
        let rogue = try CertificateAuthority.create(name: "Gold CA")
        let forged = try rogue.issueServer(for: try ServerNames(["10.77.0.1"]))
        #expect(!(await ca.verifies(serverCertificatePEM: forged.certificatePEM, host: "10.77.0.1")))
        #expect(await rogue.verifies(serverCertificatePEM: forged.certificatePEM, host: "10.77.0.1"))
    }

    @Test func anExpiredCertificateIsRefused() async throws {
        let ca = try CertificateAuthority.create(name: "Gold CA")
        let old = try ca.issueServer(
            for: try ServerNames(["10.0.0.1"]), now: Date(timeIntervalSinceNow: -4 * 365 * 86_400))
        #expect(!(await ca.verifies(serverCertificatePEM: old.certificatePEM, host: "10.0.0.1")))
    }

    @Test func theAuthorityRoundTripsThroughPEM() async throws {
        let ca = try CertificateAuthority.create(name: "Gold CA")
        let pem = try ca.pem()
        #expect(pem.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(pem.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let again = try CertificateAuthority(certificatePEM: pem.certificatePEM, privateKeyPEM: pem.privateKeyPEM)
        let server = try again.issueServer(for: try ServerNames(["localhost"]))
        #expect(await ca.verifies(serverCertificatePEM: server.certificatePEM, host: "localhost"))
        let basic = try #require(try ca.certificate.extensions.basicConstraints)
        #expect(basic == .isCertificateAuthority(maxPathLength: 0))
    }

    @Test func aKeyFromAnotherAuthorityIsRefused() throws {
        let ca = try CertificateAuthority.create(name: "Gold CA").pem()
        let other = try CertificateAuthority.create(name: "Gold CA").pem()
        let error = #expect(throws: PKIError.self) {
            try CertificateAuthority(certificatePEM: ca.certificatePEM, privateKeyPEM: other.privateKeyPEM)
        }
        #expect(error?.description.contains("does not belong") == true)
        #expect(throws: PKIError.self) {
            try CertificateAuthority(certificatePEM: "not a certificate", privateKeyPEM: ca.privateKeyPEM)
        }
    }

    @Test func namesAreCheckedAndNamed() throws {
        let names = try ServerNames(["Gold-1.lab", "gold-1.lab", "10.0.0.1", "10.0.0.1", "fe80::1"])
        #expect(names.dnsNames == ["gold-1.lab"])
        #expect(names.addresses.map(\.bytes.count) == [4, 16])
        for bad in ["", "-bad.example", "a..b", "under_score", String(repeating: "a", count: 64), "10.0.0.1/24"] {
            let error = #expect(throws: PKIError.self) { try ServerNames(["ok", bad], field: "tls.names") }
            #expect(error?.description.hasPrefix("tls.names[1]:") == true, "\(bad)")
        }
        #expect(throws: PKIError.self) {
            try CertificateAuthority.create(name: "x").issueServer(for: try ServerNames([]))
        }
    }
}
