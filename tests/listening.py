"""Which local addresses a port listens on, read from /proc/net/tcp{,6} (Linux): tests use it to prove a
server is bound to loopback only, without needing a second network interface."""

from __future__ import annotations

from pathlib import Path

LOOPBACK_V4 = "0100007F"  # 127.0.0.1 as /proc/net/tcp prints it


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex) with a socket in LISTEN state on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                found.add(address)
    return found
