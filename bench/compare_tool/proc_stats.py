"""What the kernel already counts for a proxy process: CPU time (utime + stime of all its
threads, /proc/<pid>/stat), resident memory (/proc/<pid>/status VmRSS) and context switches
(summed over /proc/<pid>/task/*/status); and, for ringside, io_uring work per request from the
kernel's tracepoints counted by `perf stat` (SQEs submitted, io_uring_enter calls)."""

import glob
import os
import shutil
import signal
import subprocess

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        # The command name (field 2) may contain spaces: count fields after its closing ')'.
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # fields 14 and 15 of stat(5)


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def context_switches(pid: int) -> int:
    total = 0
    for status in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            with open(status) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except FileNotFoundError:  # a thread that ended between glob and open
            pass
    return total


class Snapshot:
    """CPU seconds and context switches of a set of pids at one moment."""

    def __init__(self, pids: list):
        self.cpu = {p: cpu_seconds(p) for p in pids}
        self.switches = {p: context_switches(p) for p in pids}

    def delta(self, later: "Snapshot") -> tuple:
        cpu = sum(later.cpu[p] - self.cpu[p] for p in self.cpu)
        switches = sum(later.switches[p] - self.switches[p] for p in self.switches)
        return cpu, switches


TRACEPOINTS = ("io_uring:io_uring_submit_req", "syscalls:sys_enter_io_uring_enter")


def ensure_tracefs() -> str:
    """Returns "" when the io_uring tracepoints are usable, else why not (after trying to mount
    tracefs, which perf needs to resolve tracepoint names)."""
    if not os.path.isdir("/sys/kernel/tracing/events") and not os.path.isdir(
            "/sys/kernel/debug/tracing/events"):
        subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"],
                       capture_output=True)
    if not shutil.which("perf"):
        return "perf is not installed (Debian: linux-perf)"
    probe = subprocess.run(["perf", "stat", "-x,", "-e", ",".join(TRACEPOINTS), "--", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"perf cannot count {', '.join(TRACEPOINTS)}: {probe.stderr.strip()[:200]}"
    return ""


class TracepointCounter:
    """`perf stat` attached to one pid for the length of a `with` block."""

    def __init__(self, pid: int, out_file: str):
        self.pid, self.out_file = pid, out_file
        self.counts = {}

    def __enter__(self):
        self.proc = subprocess.Popen(
            ["perf", "stat", "-x,", "-o", self.out_file, "-e", ",".join(TRACEPOINTS),
             "-p", str(self.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with open(self.out_file) as f:
            for line in f:  # value,unit,event,...
                fields = line.strip().split(",")
                if len(fields) >= 3 and fields[2] in TRACEPOINTS and fields[0].isdigit():
                    self.counts[fields[2]] = int(fields[0])
        return False
