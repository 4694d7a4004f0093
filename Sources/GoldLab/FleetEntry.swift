/// A lab machine as the fleet sees it; the director turns these into fleet.yaml entries.
public struct LabFleetEntry: Sendable, Codable, Hashable {
    /// A disk as the guest sees it.
    public struct Disk: Sendable, Codable, Hashable {
        /// Linux device name in the guest (virtio-blk: vda, vdb, …).
        public var device: String
        public var sizeBytes: UInt64
    }

    /// How Gold reaches the machine's power: QEMU's QMP socket (see `QEMUPowerDriver`).
    public struct Power: Sendable, Codable, Hashable {
        public var driver: String  // "qemu"
        public var qmpSocket: String
        public var networkDeviceID: String
        public var diskDeviceIDs: [String]
    }

    public var name: String
    public var mac: String
    public var bootMode: BootMode
    public var disks: [Disk]
    public var power: Power
    /// The VM's serial console log (the lab's stand-in for a serial-over-LAN console).
    public var serialLog: String
}
