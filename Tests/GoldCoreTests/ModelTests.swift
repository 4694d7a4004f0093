import GoldCore
import Testing

@Suite struct ModelTests {
    @Test(arguments: [
        ("52:54:00:12:34:56", "52:54:00:12:34:56"), ("52-54-00-12-34-56", "52:54:00:12:34:56"),
        ("525400123456", "52:54:00:12:34:56"), ("AA:BB:CC:DD:EE:FF", "aa:bb:cc:dd:ee:ff"),
    ])
    func macForms(_ text: String, _ canonical: String) {
        #expect(MACAddress(text)?.description == canonical)
    }

    @Test(arguments: [
        "", "52:54:00:12:34", "52:54:00:12:34:5g", "52:54:00:12:34:56:78", "52:54-00:12:34:56", "5254.0012.3456",
    ])
    func badMACs(_ text: String) {
        #expect(MACAddress(text) == nil)
    }

    @Test(arguments: [
        ("512MiB", UInt64(512 << 20)), ("8GiB", 8 << 30), ("2G", 2 << 30), ("4096", 4096), ("1.5GiB", 3 << 29),
        ("1GB", 1_000_000_000),
    ])
    func sizes(_ text: String, _ bytes: UInt64) {
        #expect(ByteSize(text)?.bytes == bytes)
    }

    @Test(arguments: ["", "lots", "-1GiB", "GiB", "1.2.3M"])
    func badSizes(_ text: String) {
        #expect(ByteSize(text) == nil)
    }

    @Test func ipv4() {
        #expect(IPv4Address("10.77.0.1")?.description == "10.77.0.1")
        #expect(IPv4Address("256.1.1.1") == nil)
        #expect(IPv4Address("1.2.3") == nil)
        #expect(IPv4CIDR("10.0.0.5/24")?.netmask.description == "255.255.255.0")
        #expect(IPv4CIDR("10.0.0.5/33") == nil)
    }

    @Test func kernelFragments() {
        #expect(KernelFragment("CONFIG_X86_64=y") == KernelFragment("CONFIG_X86_64=y"))
        #expect(KernelFragment("CONFIG_LOCALVERSION=\"-gold\"")?.value == "\"-gold\"")
        #expect(KernelFragment("# CONFIG_MODULES is not set")?.value == "n")
        #expect(KernelFragment("CONFIG_=y") == nil)
        #expect(KernelFragment("config_x=y") == nil)
    }

    @Test func tokenSecretsAreRandomAndHashed() {
        let a = TokenSecret.generate()
        let b = TokenSecret.generate()
        #expect(a != b)
        #expect(a.value.hasPrefix("gold_") && a.value.count == 5 + 43)
        #expect(a.hash.count == 64)
        #expect(TokenSecret.hash(a.value) == a.hash)
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        #expect(TokenSecret.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

@Suite struct AuthorizationTests {
    @Test(arguments: [
        (Role.admin, nil as String?, Permission.administer, true),
        (.operator, nil, .operate, true), (.operator, nil, .administer, false),
        (.viewer, nil, .read, true), (.viewer, nil, .operate, false),
        (.server, nil, .serverReport, true), (.server, nil, .machineReport("a"), true), (.server, nil, .operate, false),
        (.agent, "a", .machineReport("a"), true), (.agent, "a", .machineReport("b"), false),
        (.agent, "a", .read, false), (.agent, nil, .machineReport("a"), false),
    ])
    func rules(_ role: Role, _ machine: String?, _ permission: Permission, _ allowed: Bool) {
        #expect(Authorization.allows(role: role, boundMachine: machine, permission) == allowed)
    }
}

@Suite struct ServerConfigTests {
    @Test func defaultsWhenEmpty() throws {
        #expect(try ServerConfig.parse(yaml: "") == ServerConfig.defaults())
    }

    @Test func readsEveryField() throws {
        let config = try ServerConfig.parse(
            yaml: """
                data_dir: /srv/gold
                roles: [deploy]
                log_level: debug
                director: {listen: "[::1]:9000", store: "sqlite:/srv/gold/x.db", event_retention_days: 7}
                deploy: {director: "http://gold:8080", http: "0.0.0.0:80", tftp: "0.0.0.0:69"}
                """)
        #expect(config.roles == [.deploy])
        #expect(config.director.listen == HostPort(host: "::1", port: 9000))
        #expect(config.sqlitePath == "/srv/gold/x.db")
        #expect(config.director.eventRetentionDays == 7)
        #expect(try ServerConfig.parse(yaml: "roles: [director]").director.eventRetentionDays == 30)
        #expect(config.deploy.director == "http://gold:8080")
    }

    @Test(arguments: [
        ("roles: [builder]", "gold.yaml:1 roles: unknown role 'builder'"),
        ("director: {listen: localhost}", "director.listen: 'localhost' is not HOST:PORT"),
        ("director: {store: mysql://x}", "director.store: 'mysql://x' is not a store"),
        ("data_dir: relative", "data_dir: 'relative' must be an absolute path"),
        ("log_level: loud", "'loud' is not a log level"),
        ("listen: 1", "unknown field 'listen'"),
        ("director: {event_retention_days: -1}", "director.event_retention_days"),
        ("director: {event_retention_days: 99999999999999999999}", "director.event_retention_days"),
    ])
    func badConfigs(_ yaml: String, _ expected: String) {
        #expect(throws: FleetValidationError.self) { try ServerConfig.parse(yaml: yaml) }
        do { _ = try ServerConfig.parse(yaml: yaml) } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }
}
