"""Checks a bench/compare --json file is complete (the CI smoke run's assertion): every
contender of every protocol answered requests in both modes, the proxies' CPU and RSS were read,
every chain echoed the large HTTP body (when asked for), and ringside's io_uring tracepoints
counted work. Never checks timing. Exit 1 names what is
missing."""

import json
import sys

CONTENDERS = ("direct", "floor", "ringside", "haproxy", "nginx")
MODES = ("one", "saturation")


def problems(results: dict) -> list:
    out = []
    protocols = [p for p in ("http", "grpc") if p in results]
    if not protocols:
        out.append("no protocol measured")
    for p in protocols:
        for name in CONTENDERS:
            for mode in MODES:
                m = results[p].get(name, {}).get(mode)
                if not m:
                    out.append(f"{p} {name} {mode}: missing")
                    continue
                for key in ("requests", "rps", "p50_us", "p99_us"):
                    if not m.get(key, 0) > 0:
                        out.append(f"{p} {name} {mode}: {key} = {m.get(key)}")
                if name != "direct":
                    for key in ("cpu_us_per_request", "rss_mib"):
                        if key not in m or not m[key] >= 0 or (key == "rss_mib" and m[key] == 0):
                            out.append(f"{p} {name} {mode}: {key} = {m.get(key)}")
        bulk_mib = results.get("settings", {}).get("bulk_mib", 0)
        if p == "http" and bulk_mib:
            rates = results[p].get("bulk", {}).get("mib_per_s", {})
            failed = results[p].get("bulk", {}).get("failed", {})
            for name in CONTENDERS:
                if name in failed and name not in ("direct", "ringside"):
                    continue  # a proxy that cannot relay a full-duplex echo: shown in the table
                if not rates.get(name, 0) > 0:
                    out.append(f"http {name} {bulk_mib} MiB echo: MiB/s = {rates.get(name)}")
        io = results[p].get("ringside_io_uring", {})
        if "unavailable" in io:
            out.append(f"{p} ringside io_uring counters: {io['unavailable']}")
            continue
        for mode in MODES:
            for side in ("a", "b"):
                s = io.get(mode, {}).get(side, {})
                for key in ("sqes_per_request", "enters_per_request"):
                    if not s.get(key, 0) > 0:
                        out.append(f"{p} ringside {side} {mode}: {key} = {s.get(key)}")
    return out


def main() -> int:
    with open(sys.argv[1]) as f:
        found = problems(json.load(f))
    for line in found:
        print(f"check_results: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
