"""Runs external tools (perf, valgrind) with errors that say what to install or which flag failed."""
import shutil
import subprocess

from .errors import ToolError


def need(tool):
    """Path of tool or a ToolError naming the Debian package that provides it."""
    path = shutil.which(tool)
    if path is None:
        package = {'perf': 'linux-perf', 'valgrind': 'valgrind'}.get(tool, tool)
        raise ToolError(f'{tool} not found: install {package} (scripts/install-deps.sh does)')
    return path


def run(argv, what):
    """Runs argv to completion; stdout text, or a ToolError with its stderr tail."""
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors='replace')
    if proc.returncode != 0:
        raise ToolError(f'{what} failed ({" ".join(argv[:4])} ...): {proc.stderr.strip()[-600:]}')
    return proc.stdout, proc.stderr


def ensure_tracefs():
    """io_uring tracepoints need tracefs; mount it if nobody has (needs root)."""
    import os
    if os.path.isdir('/sys/kernel/tracing/events') or os.path.isdir('/sys/kernel/debug/tracing/events'):
        return
    subprocess.run(['mount', '-t', 'tracefs', 'nodev', '/sys/kernel/tracing'],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
