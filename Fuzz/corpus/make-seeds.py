#!/usr/bin/env python3
"""Writes the seed corpus: real-shaped TFTP and DHCP datagrams, one file each (run from anywhere)."""
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def write(kind, name, data):
    os.makedirs(os.path.join(here, kind), exist_ok=True)
    with open(os.path.join(here, kind, name), "wb") as f:
        f.write(data)


def cstrings(*parts):
    return b"".join(p.encode() + b"\0" for p in parts)


# TFTP (RFC 1350 §5, RFC 2347 OACK)
write("tftp", "rrq-plain", b"\0\1" + cstrings("pxelinux.0", "octet"))
write("tftp", "rrq-pxe-rom", b"\0\1" + cstrings("pxelinux.0", "octet", "tsize", "0", "blksize", "1456") + b"\0" * 8)
write("tftp", "rrq-ipxe", b"\0\1" + cstrings("/boot/undionly.kpxe", "octet", "blksize", "1432", "tsize", "0"))
write("tftp", "rrq-window", b"\0\1" + cstrings("vmlinuz", "octet", "blksize", "1468", "windowsize", "16", "timeout", "2"))
write("tftp", "rrq-netascii", b"\0\1" + cstrings("pxelinux.cfg/01-52-54-00-12-34-56", "NetASCII"))
write("tftp", "wrq", b"\0\2" + cstrings("upload.bin", "octet"))
write("tftp", "oack", b"\0\6" + cstrings("tsize", "26843545", "blksize", "1468", "windowsize", "16"))
write("tftp", "data-1", b"\0\3\0\1" + bytes(range(256)) * 2)
write("tftp", "data-last", b"\0\3\xff\xff" + b"tail")
write("tftp", "ack-0", b"\0\4\0\0")
write("tftp", "ack-17", b"\0\4\0\x11")
write("tftp", "error-1", b"\0\5\0\1" + cstrings("File not found"))
write("tftp", "error-8", b"\0\5\0\x08" + b"tsize refused")


# DHCP (RFC 2131 §2 figure 1, options per RFC 2132 / RFC 4578)
def dhcp(xid, mac, options, flags=0, ciaddr=b"\0" * 4, giaddr=b"\0" * 4):
    b = bytes([1, 1, 6, 0]) + struct.pack("!IHH", xid, 4, flags)
    b += ciaddr + b"\0" * 8 + giaddr + mac + b"\0" * 10 + b"\0" * 192
    b += bytes([99, 130, 83, 99])
    for code, data in options:
        data = data.encode() if isinstance(data, str) else bytes(data)
        b += bytes([code, len(data)]) + data
    return b + b"\xff"


qemu = bytes([0x52, 0x54, 0x00, 0x12, 0x34, 0x56])
ovmf = bytes([0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF])
uuid = bytes.fromhex("8e2a417c031b4f559a3e112233445566")
write("dhcp", "discover-ipxe", dhcp(0x2A5C1F01, qemu, [
    (53, [1]), (57, [0x05, 0xC0]), (93, [0, 0]), (94, [1, 2, 1]), (60, "PXEClient:Arch:00000:UNDI:002001"),
    (77, "iPXE"), (55, [1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 175, 203]),
    (175, [0xB1, 0x05, 0x01, 0x80, 0x86, 0x10, 0x0E, 0xEB, 0x03, 0x01, 0x00, 0x00, 0x17, 0x01, 0x01]),
    (61, [1] + list(qemu)), (97, [0] + list(uuid))]))
write("dhcp", "discover-ovmf", dhcp(0x7D3B9A02, ovmf, [
    (53, [1]), (57, [0x05, 0xDC]), (55, [1, 2, 3, 4, 5, 6, 12, 13, 15, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51,
                                        54, 58, 59, 60, 66, 67, 97, 128, 129, 130]),
    (97, [0] + list(uuid)), (94, [1, 3, 0]), (93, [0, 7]), (60, "PXEClient:Arch:00007:UNDI:003016")], flags=0x8000))
write("dhcp", "request-selecting", dhcp(0x2A5C1F02, qemu, [
    (53, [3]), (50, [10, 0, 0, 50]), (54, [10, 0, 0, 1]), (12, "node-07"), (61, [1] + list(qemu)),
    (55, [1, 3, 6, 15, 66, 67])]))
write("dhcp", "request-renewing", dhcp(0x11223344, qemu, [(53, [3]), (61, [1] + list(qemu))], ciaddr=bytes([10, 0, 0, 50])))
write("dhcp", "discover-relayed-padded", dhcp(0x55AA55AA, qemu, [
    (53, [1]), (0, []), (60, "HTTPClient:Arch:00016:UNDI:003001"), (93, [0, 16]), (82, [1, 4, 0, 0, 0, 1])],
    giaddr=bytes([192, 168, 7, 1])) + b"\0" * 60)
write("dhcp", "release", dhcp(0xDEADBEEF, qemu, [(53, [7]), (54, [10, 0, 0, 1])], ciaddr=bytes([10, 0, 0, 50])))

# The TFTP read transfer (tftp-transfer/main.swift): 3 setup bytes (block size and window, OACK, netascii; the
# file's length: b << 7 | c >> 1, or with b's top bit (b & 0x7f) << 13 | c << 5 | c & 0x1f), then events: 0-1 ACK n, 2-3 ACK the newest block, 4 ACK inside the window, 5 timer, 6-7 data,
# 8 a datagram, 9 cancel or fail.
write("tftp-transfer", "lockstep-1024", bytes([0x02, 8, 0, 7, 3, 2, 2, 2, 2]))
write("tftp-transfer", "oack-window16", bytes([0x65, 34, 0, 0, 0, 0, 7, 10, 2, 7, 10, 2, 5, 30, 2, 5, 60, 2, 2]))
write("tftp-transfer", "wrap-65536-blocks", bytes([0x30, 0xC0, 0x10]) + bytes([7, 255, 2, 2]) * 24)
write("tftp-transfer", "netascii", bytes([0x82, 4, 0, 6, 100, 2, 6, 100, 2, 2]))
write("tftp-transfer", "timeouts", bytes([0x02, 8, 0, 7, 3, 5, 30, 5, 30, 5, 30, 5, 30, 5, 30]))
write("tftp-transfer", "early-ack", bytes([0x22, 32, 0, 7, 3, 4, 1, 4, 3, 2, 9, 0xfd]))

# The DHCP responder (dhcp-responder/main.swift): a setup byte (1 full DHCP, 2 unknown machines booted, 4 a pool,
# 8 a static machine, 16 authoritative), then events: 0-3 a message (MAC, type and options, addresses), 4 a raw
# datagram, 5 a message on port 4011, 6 time passes, 7 expiry.
write("dhcp-responder", "full-dora-release", bytes([0x1F, 0, 1, 0x40, 0x01, 0, 1, 0x32, 0x80, 6, 10, 0, 1, 0x06, 0x20,
                                                    0, 2, 0x40, 0x01, 0, 2, 0x32, 0x84, 6, 255, 7]))
write("dhcp-responder", "full-pool-exhausted", bytes([0x17]) + b"".join(bytes([0, m, 0x40, 0x01, 0, m, 0x32, 0x80 | m])
                                                                         for m in range(8)))
write("dhcp-responder", "full-decline", bytes([0x17, 0, 3, 0x40, 0x01, 0, 3, 0x32, 0x80, 0, 3, 0x33, 0x80, 6, 50,
                                               0, 4, 0x40, 0x01]))
write("dhcp-responder", "proxy-pxe", bytes([0x02, 0, 1, 0x40, 0x01, 5, 1, 0x62, 0x81, 0, 5, 0xC0, 0x00, 5, 6, 0x42, 0x01]))
write("dhcp-responder", "static-taken", bytes([0x1D, 0, 2, 0x40, 0x01, 0, 5, 0x32, 0x84, 0, 2, 0x32, 0x84]))
write("dhcp-responder", "raw-discover", bytes([0x01, 4, 75]) + dhcp(0x01020304, qemu, [(53, [1])])[:300])

# HTTP Range (range/main.swift): 8 bytes of length, then the header.
for name, length, header in [("first-100", 1000, "bytes=0-99"), ("suffix", 1000, "bytes=-5"), ("open", 1000, "bytes=100-"),
                             ("inverted", 1000, "bytes=5-1"), ("several", 1000, "bytes=0-0,5-9"), ("other-unit", 10, "items=0-1"),
                             ("spaces", 10, " bytes= 7 - 9 "), ("empty-file", 0, "bytes=0-"), ("huge", (1 << 63) | 5, "bytes=-0"),
                             ("past-end", 10, "bytes=10-20"), ("uppercase", 4096, "BYTES=4095-")]:
    write("range", name, struct.pack(">Q", length) + header.encode())

# JSON into the model (json/main.swift): the first byte picks the type (0 commands, 1 machine spec, 2 kernel spec,
# 3 workflow event); Swift's synthesized Codable spells enum cases as {"case":{"label":value}} ("_0" unlabeled).
commands = ('[{"id":"wf-1.3.1","workflow":"wf-1","machine":"web-01","step":"write the image",'
            '"action":{"agent":{"_0":{"writeImage":{"version":3}}}}},'
            '{"id":"wf-1.4.1","workflow":"wf-1","machine":"web-01","step":"reboot",'
            '"action":{"agent":{"_0":{"reboot":{"netboot":false}}}}},'
            '{"id":"wf-2.1.1","workflow":"wf-2","machine":"db-01","step":"power",'
            '"action":{"power":{"_0":"on-or-cycle"}}},'
            '{"id":"wf-2.2.1","workflow":"wf-2","machine":"db-01","step":"torture",'
            '"action":{"agent":{"_0":{"torture":{"seconds":60}}}}}]')
write("json", "commands", bytes([0]) + commands.encode())
write("json", "command-replace-binary", bytes([0]) + ('[{"id":"a","workflow":"w","machine":"m","step":"s",'
      '"action":{"agent":{"_0":{"replaceBinary":{"name":"nginx","artifact":"sha256:00"}}}}}]').encode())
# The two machines of corpus/yaml/example-fleet.yaml, as JSONEncoder writes a parsed MachineSpec.
write("json", "machine-spec-uefi", bytes([1]) + '{"binaries":[],"boot":"uefi","checks":[{"kind":"tcp","target":":22"},{"kind":"command","target":"systemctl is-system-running --wait"}],"cpu":{"flags":[],"march":"x86-64-v2","model":"QEMU Virtual CPU"},"disks":[{"device":"\\/dev\\/vda","partitions":[{"filesystem":"vfat","mount":"\\/boot\\/efi","size":"256MiB"},{"filesystem":"none","label":"grubenv","size":"4MiB"},{"filesystem":"ext4","mount":"\\/","options":"defaults,noatime"}],"size":"2GiB"}],"kernel":{"base":"tinyconfig","fragments":["CONFIG_VIRTIO_BLK=y","CONFIG_VIRTIO_NET=y","CONFIG_EXT4_FS=y","CONFIG_SERIAL_8250_CONSOLE=y"],"localVersion":"-gold-lab","source":"debian:linux-source-6.1"},"macs":["52:54:00:00:10:01"],"name":"lab-uefi-01","network":{"address":"10.77.0.11\\/24","dns":["10.77.0.1"],"gateway":"10.77.0.1","hostname":"lab-uefi-01","mode":"static"},"power":{"driver":"qemu"},"profile":"lab","role":"web","services":["ssh"],"users":[{"groups":["sudo"],"keys":["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGoldLabKeyForDemoOnlyxxxxxxxxxxxxxxxxxxxx ops@gold"],"name":"ops","shell":"\\/bin\\/bash","sudo":"ALL=(ALL) NOPASSWD: ALL"}]}'.encode())
write("json", "machine-spec-bios", bytes([1]) + '{"binaries":[],"boot":"bios","checks":[{"kind":"tcp","target":":22"},{"kind":"command","target":"systemctl is-system-running --wait"}],"cpu":{"flags":[],"march":"x86-64-v2","model":"QEMU Virtual CPU"},"disks":[{"device":"\\/dev\\/vda","partitions":[{"filesystem":"none","label":"bios-boot","size":"1MiB"},{"filesystem":"none","label":"grubenv","size":"4MiB"},{"filesystem":"ext4","mount":"\\/"}],"size":"2GiB"},{"device":"\\/dev\\/vdb","partitions":[{"filesystem":"ext4","mount":"\\/srv"}],"size":"1GiB"}],"kernel":{"base":"tinyconfig","fragments":["CONFIG_VIRTIO_BLK=y","CONFIG_VIRTIO_NET=y","CONFIG_EXT4_FS=y","CONFIG_SERIAL_8250_CONSOLE=y"],"localVersion":"-gold-lab","source":"debian:linux-source-6.1"},"macs":["52:54:00:00:10:02"],"name":"lab-bios-01","network":{"dns":[],"hostname":"lab-bios-01","mode":"dhcp"},"power":{"driver":"qemu"},"profile":"lab","role":"web","services":["ssh"],"users":[{"groups":["sudo"],"keys":["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGoldLabKeyForDemoOnlyxxxxxxxxxxxxxxxxxxxx ops@gold"],"name":"ops","shell":"\\/bin\\/bash","sudo":"ALL=(ALL) NOPASSWD: ALL"}]}'.encode())
write("json", "kernel-spec", bytes([2]) + b'{"source":"debian:linux-source-6.1","base":"tinyconfig","fragments":[],"localVersion":"-gold"}')
write("json", "event-completed", bytes([3]) + b'{"completed":{"commandID":"wf-1.3.1","outcome":{"succeeded":{"detail":"ok","outputs":{"image.version":"3"}}}}}')
write("json", "event-progress", bytes([3]) + b'{"progress":{"commandID":"wf-1.3.1","fraction":0.5,"detail":"half"}}')
write("json", "event-observed", bytes([3]) + b'{"observed":{"_0":{"bootSuccess":{"kernel":"6.1.0-gold"}}}}')
