import Crypto
import Foundation
import SwiftASN1
import X509

#if canImport(Glibc)
    import Glibc
#endif

/// Gold's certificate authority: a P-256 key and a self-signed certificate that `gold init` creates, and the server
/// certificates it signs. The CA certificate is public (clients and machines trust it); its key stays on the
/// director's host, mode 0600.
public struct CertificateAuthority: Sendable {
    /// A certificate and its private key, both PEM.
    public struct Issued: Sendable, Equatable {
        public var certificatePEM: String
        public var privateKeyPEM: String
    }

    public let certificate: Certificate
    let key: P256.Signing.PrivateKey

    /// A new authority named `name` (its common name), valid from a day before `now` for `years`.
    public static func create(name: String, now: Date = Date(), years: Int = 10) throws -> CertificateAuthority {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let subject = try DistinguishedName { CommonName(name) }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-86_400),
            notValidAfter: now.addingTimeInterval(Double(years) * 365 * 86_400), issuer: subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            }, issuerPrivateKey: Certificate.PrivateKey(key))
        return CertificateAuthority(certificate: certificate, key: key)
    }

    /// The authority in `certificatePEM` with the key in `privateKeyPEM`; an error names which does not parse, or
    /// that they do not belong together.
    public init(certificatePEM: String, privateKeyPEM: String) throws {
        let certificate: Certificate
        do { certificate = try Certificate(pemEncoded: certificatePEM) } catch {
            throw PKIError("the CA certificate is not a PEM certificate: \(error)")
        }
        let key: P256.Signing.PrivateKey
        do { key = try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM) } catch {
            throw PKIError("the CA key is not a PEM P-256 private key: \(error)")
        }
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw PKIError("the CA key does not belong to the CA certificate")
        }
        self.init(certificate: certificate, key: key)
    }

    init(certificate: Certificate, key: P256.Signing.PrivateKey) {
        self.certificate = certificate
        self.key = key
    }

    /// The authority's certificate and key, PEM.
    public func pem() throws -> Issued {
        Issued(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
    }

    /// A server certificate for `names`, signed by this authority, valid from a day before `now` for `years`.
    public func issueServer(for names: ServerNames, now: Date = Date(), years: Int = 2) throws -> Issued {
        guard !names.isEmpty else { throw PKIError("a server certificate needs at least one name or address") }
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let caIdentifier = try certificate.extensions.subjectKeyIdentifier?.keyIdentifier
        let alternatives =
            names.dnsNames.map { GeneralName.dnsName($0) }
            + names.addresses.map { GeneralName.ipAddress(ASN1OctetString(contentBytes: ArraySlice($0.bytes))) }
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-86_400),
            notValidAfter: now.addingTimeInterval(Double(years) * 365 * 86_400), issuer: certificate.subject,
            subject: try DistinguishedName { CommonName(names.commonName) }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(alternatives)
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: caIdentifier)
            }, issuerPrivateKey: Certificate.PrivateKey(self.key))
        return Issued(certificatePEM: try leaf.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
    }

    /// Whether `leafPEM` is a server certificate this authority signed, valid now, for the host name or IP address
    /// a client dialled: what every Gold client checks.
    public func verifies(serverCertificatePEM leafPEM: String, host: String) async -> Bool {
        guard let leaf = try? Certificate(pemEncoded: leafPEM) else { return false }
        let isAddress = IPAddress(host) != nil
        var verifier = Verifier(rootCertificates: CertificateStore([certificate])) {
            RFC5280Policy()
            ServerIdentityPolicy(serverHostname: isAddress ? nil : host, serverIP: isAddress ? host : nil)
        }
        if case .validCertificate = await verifier.validate(leaf: leaf, intermediates: CertificateStore()) {
            return true
        }
        return false
    }
}

/// The names a server certificate carries: DNS names and IP addresses, every one a client dials.
public struct ServerNames: Sendable, Hashable {
    public private(set) var dnsNames: [String] = []
    public private(set) var addresses: [IPAddress] = []

    /// Names from text: each an IPv4 or IPv6 address, or a DNS name (letters, digits, `-` and `.`, labels of 1 to
    /// 63 bytes, 253 bytes in all). `field` names the configuration key in errors.
    public init(_ names: [String], field: String = "names") throws {
        for (index, name) in names.enumerated() {
            if let address = IPAddress(name) {
                if !addresses.contains(address) { addresses.append(address) }
            } else if Self.isDNSName(name) {
                let lower = name.lowercased()
                if !dnsNames.contains(lower) { dnsNames.append(lower) }
            } else {
                throw PKIError("\(field)[\(index)]: '\(name.prefix(80))' is neither an IP address nor a DNS name")
            }
        }
    }

    public var isEmpty: Bool { dnsNames.isEmpty && addresses.isEmpty }

    /// The certificate's subject: its first DNS name, else its first address.
    var commonName: String { dnsNames.first ?? addresses.first?.description ?? "gold" }

    static func isDNSName(_ name: String) -> Bool {
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return name.utf8.count <= 253 && !labels.isEmpty
            && labels.allSatisfy { label in
                (1...63).contains(label.utf8.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.utf8.allSatisfy { $0.isASCIILetterOrDigit || $0 == UInt8(ascii: "-") }
            }
    }
}

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address, parsed by the C library.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]
    public let description: String

    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            description = text
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            description = text
            return
        }
        return nil
    }
}

public struct PKIError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension UInt8 {
    fileprivate var isASCIILetterOrDigit: Bool {
        (48...57).contains(self) || (65...90).contains(self) || (97...122).contains(self)
    }
}
