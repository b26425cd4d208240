"""Finds the sidecar to profile: its pid from --metrics-port (via /proc), or its metrics port from --pid."""
import http.client
import os

from . import prom
from .errors import UsageError, ToolError

_LISTEN = '0A'  # TCP state LISTEN in /proc/net/tcp*


def _listening_inodes():
    """{socket inode: port} for every listening TCP socket on the host."""
    inodes = {}
    for table in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if cols[3] == _LISTEN:
                        inodes[cols[9]] = int(cols[1].rsplit(':', 1)[1], 16)
        except OSError:
            pass
    return inodes


def _socket_inodes_of(pid):
    """Socket inodes held open by pid (needs the same user or root)."""
    found = set()
    fd_dir = f'/proc/{pid}/fd'
    try:
        for fd in os.listdir(fd_dir):
            try:
                link = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if link.startswith('socket:['):
                found.add(link[8:-1])
    except OSError:
        pass
    return found


def pid_for_port(port):
    """The pid of the process listening on TCP port, found by socket inode in /proc/*/fd."""
    wanted = {ino for ino, p in _listening_inodes().items() if p == port}
    if not wanted:
        raise ToolError(f'--metrics-port {port}: nothing listens on that port')
    for entry in os.listdir('/proc'):
        if entry.isdigit() and _socket_inodes_of(entry) & wanted:
            return int(entry)
    raise ToolError(f'--metrics-port {port}: no process visible in /proc owns that socket (run as root?)')


def metrics_port_for_pid(pid):
    """The listening port of pid that answers /metrics with ringside_ metrics, or None."""
    listening = _listening_inodes()
    for ino in sorted(_socket_inodes_of(pid)):
        port = listening.get(ino)
        if port is None:
            continue
        try:
            if 'ringside_' in prom.fetch(port, timeout=1.0):
                return port
        except (OSError, http.client.HTTPException):
            continue  # another protocol on that port (the HTTP/2 gRPC port answers with a binary frame)
    return None


def resolve(args, need_metrics):
    """Fills args.pid and args.metrics_port from whichever was given; checks the process exists."""
    pid, port = args.pid, args.metrics_port
    if pid is None and port is None:
        raise UsageError('give --pid or --metrics-port (the sidecar to profile)')
    if pid is None:
        pid = pid_for_port(port)
    if not os.path.exists(f'/proc/{pid}'):
        raise UsageError(f'--pid {pid}: no such process')
    if port is None and need_metrics:
        port = metrics_port_for_pid(pid)
        if port is None:
            raise UsageError(f'--pid {pid}: the process serves no /metrics (started with --enable-metrics=false?); give --metrics-port')
    args.pid, args.metrics_port = pid, port
    return args
