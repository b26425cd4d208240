"""The same load generators for every contender: Debian's wrk (HTTP/1.1) and h2load (gRPC over
h2c), so no contender is measured with a client of its own. Each run returns requests/s, the
number of requests completed and the p50/p99 latency in microseconds; any failed request makes the
run raise, so a broken chain stops the comparison instead of producing a fast wrong figure."""

import os
import re
import subprocess
import time

import bulk_echo

GRPC_PATH = "/ringside.test.v1.Echo/Unary"  # proto/ringside/test/v1/echo.proto


class LoadError(RuntimeError):
    pass


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def grpc_echo_body(payload_size: int) -> bytes:
    """A length-prefixed gRPC message: EchoRequest{payload (field 2) = payload_size bytes}."""
    message = b"\x12" + _varint(payload_size) + b"x" * payload_size
    return b"\x00" + len(message).to_bytes(4, "big") + message


def write_wrk_script(path: str, body_size: int) -> None:
    with open(path, "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write(f'wrk.body = string.rep("x", {body_size})\n')
        f.write('wrk.headers["Content-Type"] = "application/octet-stream"\n')


_UNIT_US = {"us": 1.0, "ms": 1000.0, "s": 1e6, "m": 60e6}


def _to_us(text: str) -> float:
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if not m:
        raise LoadError(f"cannot read wrk latency {text!r}")
    return float(m.group(1)) * _UNIT_US[m.group(2)]


def run_wrk(url: str, script: str, connections: int, threads: int, seconds: int) -> dict:
    cmd = ["wrk", "--latency", "-t", str(min(threads, connections)), "-c", str(connections),
           "-d", f"{seconds}s", "--timeout", "10s", "-s", script, url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    text = out.stdout + out.stderr
    if out.returncode != 0:
        raise LoadError(f"{' '.join(cmd)} exited {out.returncode}:\n{text}")
    if "Non-2xx" in text or "Socket errors" in text:
        raise LoadError(f"{' '.join(cmd)} saw failed requests:\n{text}")
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", text, re.M))
    total = re.search(r"^\s*(\d+) requests in", text, re.M)
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    if not (total and rps and "50" in pct and "99" in pct):
        raise LoadError(f"cannot read wrk output of {' '.join(cmd)}:\n{text}")
    return {"requests": int(total.group(1)), "rps": float(rps.group(1)),
            "p50_us": _to_us(pct["50"]), "p99_us": _to_us(pct["99"])}


def _percentile(sorted_values: list, fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, int(round(fraction * len(sorted_values))) - 1))
    return sorted_values[index]


def parse_h2load_summary(text: str):
    """(succeeded, failed + errored, requests/s) from h2load's summary, or None. h2load states
    the run's length in ms below one second ("finished in 986.58ms, 4142.00 req/s")."""
    counts = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, "
                       r"(\d+) failed, (\d+) errored", text)
    finished = re.search(r"finished in [0-9.]+(?:ms|s), ([0-9.]+) req/s", text)
    if not (counts and finished):
        return None
    return int(counts.group(1)), int(counts.group(2)) + int(counts.group(3)), float(finished.group(1))


def run_h2load(url: str, body_file: str, connections: int, threads: int, seconds: int,
               headers: list, log_file: str) -> dict:
    cmd = ["h2load", "-t", str(min(threads, connections)), "-c", str(connections), "-m", "1",
           "-D", str(seconds), "-d", body_file, "--log-file", log_file,
           "-H", "content-type: application/grpc", "-H", "te: trailers"]
    for h in headers:
        cmd += ["-H", h]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    text = out.stdout + out.stderr
    if out.returncode != 0:
        raise LoadError(f"{' '.join(cmd)} exited {out.returncode}:\n{text}")
    summary = parse_h2load_summary(text)
    if summary is None:
        raise LoadError(f"cannot read h2load output of {' '.join(cmd)}:\n{text}")
    succeeded, failed, rps = summary
    if succeeded == 0 or failed:
        raise LoadError(f"{' '.join(cmd)} saw failed requests:\n{text}")
    latencies = []
    with open(log_file) as f:  # start (us since epoch) \t status \t duration (us)
        for line in f:
            fields = line.split("\t")
            if len(fields) >= 3 and fields[1] == "200":
                latencies.append(float(fields[2]))
    os.unlink(log_file)
    if not latencies:
        raise LoadError(f"h2load wrote no successful requests to {log_file}:\n{text}")
    latencies.sort()
    return {"requests": succeeded, "rps": rps,
            "p50_us": _percentile(latencies, 0.50), "p99_us": _percentile(latencies, 0.99)}


def run_bulk_echo(port: int, path: str, body: bytes, calls: int, timeout: float = 120) -> dict:
    """`calls` POSTs of `body` (a connection each, see bulk_echo.py), each answer checked to be
    the same bytes; returns MiB of body echoed per second (the body's size over the call's time,
    median of the calls) and the calls' seconds."""
    seconds = []
    for _ in range(calls):
        try:
            seconds.append(bulk_echo.echo_once(port, path, body, timeout))
        except bulk_echo.EchoError as e:
            raise LoadError(str(e)) from e
    seconds.sort()
    median = seconds[len(seconds) // 2]
    return {"mib_per_s": len(body) / (1 << 20) / median, "seconds": seconds}
