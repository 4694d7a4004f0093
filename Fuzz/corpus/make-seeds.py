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
