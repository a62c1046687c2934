"""Ports for the servers and processes a test starts, and for addresses where nothing may listen.

Binding port 0 and closing the socket again hands out a port the kernel will give the next
connection or `bind(0)` on the machine: with the suite in several processes (and a second suite
beside it), a bot started on such a port once found it taken ("address already in use"), and a
port meant to refuse could be listening by then. So a port here comes from below the kernel's
ephemeral range, which nothing takes without asking for it by number, and is reserved across every
process on the machine by a lock on its byte of one shared file (a POSIX record lock: the kernel
drops it when the process ends, however it ends). A process keeps its ports until it exits.
"""

from __future__ import annotations

import fcntl
import os
import random
import socket
import tempfile
import threading
from pathlib import Path

LOCKS = Path(tempfile.gettempdir()) / "accountbot-test-ports.lock"
FLOOR = 10_000  # below it are the well-known services' ports (PostgreSQL 5432, Redis 6379, ...)

_held: set[int] = set()
_guard = threading.Lock()
_fd: int | None = None


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for port 0 and outgoing connections (Linux's default if unknown)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _bindable(port: int) -> bool:
    try:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
    except OSError:
        return False
    return True


def free_port(*, also: int | None = None) -> int:
    """A port nobody listens on, reserved for this process: nothing on the machine that uses this
    module picks it, and the kernel never hands it out. With `also`, port + `also` is free and
    reserved too (a Redis cluster node's bus listens 10,000 above its port)."""
    global _fd
    low, _ = ephemeral_range()
    top = low - (also or 0)
    if top - FLOOR < 1000:
        raise RuntimeError(f"no room below the ephemeral range ({low}) for test ports")
    rng = random.Random()
    with _guard:
        if _fd is None:
            _fd = os.open(LOCKS, os.O_RDWR | os.O_CREAT, 0o666)
        while True:
            port = rng.randrange(FLOOR, top)
            wanted = [port] if also is None else [port, port + also]
            if _held.intersection(wanted) or not all(_reserve(p) for p in wanted):
                continue
            if all(_bindable(p) for p in wanted):
                return port


def _reserve(port: int) -> bool:
    """The port's byte of LOCKS, locked for this process (POSIX locks do not conflict within one
    process, hence `_held`). A port bound by someone outside stays reserved and is skipped."""
    assert _fd is not None
    try:
        fcntl.lockf(_fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, port, os.SEEK_SET)
    except OSError:
        return False
    _held.add(port)
    return True
