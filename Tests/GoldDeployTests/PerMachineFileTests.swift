import GoldCore
import Testing

@testable import GoldDeploy

@Suite struct PerMachineFileTests {
    @Test(arguments: [
        ("pxelinux.cfg/01-52-54-00-00-10-01", "pxelinux"),
        ("grub.cfg-01-52-54-00-00-10-01", "grub"),
        ("grub.cfg-52:54:00:00:10:01", "grub"),
    ])
    func recognised(_ path: String, _ loader: String) throws {
        let (found, mac) = try #require(DeployServer.perMachineFile(path))
        #expect(found == loader)
        #expect(mac == MACAddress("52:54:00:00:10:01"))
    }

    @Test(arguments: [
        "pxelinux.cfg/default", "pxelinux.cfg/01-zz", "grub.cfg", "undionly.kpxe", "grub.cfg-01-52-54-00",
    ])
    func notPerMachine(_ path: String) {
        #expect(DeployServer.perMachineFile(path) == nil)
    }
}
