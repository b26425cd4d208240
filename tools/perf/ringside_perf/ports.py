"""Free TCP ports the way tests/support/free_port does it (same counter file, below the ephemeral range),
so ports of ringside-perf's own processes never collide with ports other test processes hand out."""
import fcntl
import os
import random
import socket

_COUNTER_FILE = '/tmp/ringside-test-port-counter'  # shared with free_port.cc
_LOWEST = 20000
_FEWEST_USABLE = 2000


def _ephemeral_low():
    try:
        with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _free_on_all_addresses(port):
    with socket.socket() as s:
        try:
            s.bind(('0.0.0.0', port))
            return True
        except OSError:
            return False


def _kernel_chosen():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def pick():
    high = _ephemeral_low()
    if high < _LOWEST + _FEWEST_USABLE or high > 65536:
        return _kernel_chosen()
    span = high - _LOWEST
    try:
        fd = os.open(_COUNTER_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError:
        return _kernel_chosen()
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        text = os.pread(fd, 15, 0)
        try:
            nxt = int(text.split()[0]) if text.strip() else random.randrange(span)
        except ValueError:
            nxt = random.randrange(span)
        chosen = 0
        for _ in range(span):
            port = _LOWEST + nxt % span
            nxt = (nxt + 1) % span
            if _free_on_all_addresses(port):
                chosen = port
                break
        os.ftruncate(fd, 0)
        os.pwrite(fd, f'{nxt}\n'.encode(), 0)
        return chosen or _kernel_chosen()
    finally:
        os.close(fd)  # closing drops the flock
