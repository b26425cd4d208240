"""Unit tests of bench/compare's pieces that do not need a network: the gRPC request it sends,
the reading of wrk's latency units, the percentile, the results check (on a complete and on a
broken result) and the table. The whole tool runs for real in bench/smoke.sh (CI stage 1)."""

import copy
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import check_results  # noqa: E402
import load_drivers  # noqa: E402
from report import render_table, target_checks  # noqa: E402
from topology import per_shard_values  # noqa: E402


def complete_results() -> dict:
    mode = {"requests": 1000, "rps": 5000.0, "p50_us": 100.0, "p99_us": 200.0,
            "added_p50_us": 0.0, "added_p99_us": 0.0,
            "cpu_us_per_request": 30.0, "context_switches_per_request": 0.5, "rss_mib": 20.0}
    direct = {k: mode[k] for k in ("requests", "rps", "p50_us", "p99_us")}
    side = {"sqes_per_request": 2.0, "enters_per_request": 4.0, "context_switches_per_request": 2.5}
    proto = {name: {"one": dict(mode), "saturation": dict(mode)}
             for name in ("floor", "ringside", "haproxy", "nginx")}
    proto["direct"] = {"one": dict(direct), "saturation": dict(direct)}
    proto["ringside_io_uring"] = {m: {"a": dict(side), "b": dict(side)} for m in ("one", "saturation")}
    http = copy.deepcopy(proto)
    http["bulk"] = {"mib": 64, "mib_per_s": {"direct": 1000.0, "floor": 800.0, "ringside": 950.0,
                                             "haproxy": 700.0, "nginx": 400.0}}
    return {"settings": {"rounds": 3, "duration": 3, "body_size": 64, "bulk_mib": 64, "connections": 32,
                         "threads": 2, "shards": 1, "quick": False},
            "http": http, "grpc": copy.deepcopy(proto)}


class GrpcBodyTest(unittest.TestCase):
    def test_frames_an_echo_request_with_the_payload_in_field_2(self):
        body = load_drivers.grpc_echo_body(3)
        self.assertEqual(body, b"\x00\x00\x00\x00\x05" + b"\x12\x03xxx")

    def test_payload_length_is_a_varint(self):
        body = load_drivers.grpc_echo_body(300)
        self.assertEqual(body[5:8], b"\x12\xac\x02")  # 300 = 0xac 0x02
        self.assertEqual(int.from_bytes(body[1:5], "big"), len(body) - 5)


class WrkUnitsTest(unittest.TestCase):
    def test_units(self):
        self.assertEqual(load_drivers._to_us("52.00us"), 52.0)
        self.assertEqual(load_drivers._to_us("1.50ms"), 1500.0)
        self.assertEqual(load_drivers._to_us("2.00s"), 2e6)

    def test_unknown_text_is_an_error(self):
        with self.assertRaises(load_drivers.LoadError):
            load_drivers._to_us("fast")


class H2loadSummaryTest(unittest.TestCase):
    def test_runs_shorter_than_a_second_are_stated_in_ms(self):
        text = ("finished in 986.58ms, 4142.00 req/s, 415.86KB/s\n"
                "requests: 4142 total, 4174 started, 4142 done, 4142 succeeded, 0 failed, 0 errored, 0 timeout\n")
        self.assertEqual(load_drivers.parse_h2load_summary(text), (4142, 0, 4142.0))

    def test_failed_and_errored_count_as_failures(self):
        text = ("finished in 3.00s, 100.50 req/s, 1KB/s\n"
                "requests: 302 total, 302 started, 302 done, 300 succeeded, 1 failed, 1 errored, 0 timeout\n")
        self.assertEqual(load_drivers.parse_h2load_summary(text), (300, 2, 100.5))

    def test_no_summary(self):
        self.assertIsNone(load_drivers.parse_h2load_summary("starting benchmark...\n"))


class PercentileTest(unittest.TestCase):
    def test_nearest_rank(self):
        values = list(range(1, 101))
        self.assertEqual(load_drivers._percentile(values, 0.50), 50)
        self.assertEqual(load_drivers._percentile(values, 0.99), 99)
        self.assertEqual(load_drivers._percentile([7], 0.99), 7)


class CheckResultsTest(unittest.TestCase):
    def test_complete_results_pass(self):
        self.assertEqual(check_results.problems(complete_results()), [])

    def test_a_contender_without_requests_is_named(self):
        r = complete_results()
        r["grpc"]["nginx"]["saturation"]["requests"] = 0
        self.assertEqual(check_results.problems(r), ["grpc nginx saturation: requests = 0"])

    def test_a_chain_that_did_not_echo_the_large_body_is_named(self):
        r = complete_results()
        del r["http"]["bulk"]["mib_per_s"]["nginx"]
        self.assertEqual(check_results.problems(r), ["http nginx 64 MiB echo: MiB/s = None"])

    def test_a_proxy_that_cannot_relay_a_full_duplex_echo_is_shown_failing(self):
        r = complete_results()
        del r["http"]["bulk"]["mib_per_s"]["nginx"]
        r["http"]["bulk"]["failed"] = {"nginx": "IncompleteRead(5631745 bytes read)"}
        self.assertEqual(check_results.problems(r), [])
        bulk = next(line for line in render_table(r, ["http"]).splitlines() if line.startswith("| HTTP 64 MiB echo"))
        self.assertIn("| fails (full-duplex echo stalls) |", bulk)

    def test_ringside_failing_the_echo_is_a_problem(self):
        r = complete_results()
        del r["http"]["bulk"]["mib_per_s"]["ringside"]
        r["http"]["bulk"]["failed"] = {"ringside": "timed out"}
        self.assertEqual(check_results.problems(r), ["http ringside 64 MiB echo: MiB/s = None"])

    def test_missing_io_uring_counts_are_named(self):
        r = complete_results()
        r["http"]["ringside_io_uring"] = {"unavailable": "perf is not installed"}
        self.assertEqual(check_results.problems(r),
                         ["http ringside io_uring counters: perf is not installed"])


class TableTest(unittest.TestCase):
    def test_added_latency_and_ratios(self):
        r = complete_results()
        for name, p50, p99 in (("ringside", 40.0, 100.0), ("haproxy", 80.0, 200.0),
                               ("floor", 20.0, 50.0)):
            r["http"][name]["one"]["added_p50_us"] = p50
            r["http"][name]["one"]["added_p99_us"] = p99
        table = render_table(r, ["http", "grpc"])
        row = next(line for line in table.splitlines() if line.startswith("| HTTP latency p50 / p99, 1"))
        self.assertIn("| +40 / +100 µs |", row)
        self.assertIn("| 0.50× / 0.50× | 2.00× / 2.00× |", row)
        self.assertIn("a: 2.00 SQEs, 4.00 io_uring_enter", table)
        bulk = next(line for line in table.splitlines() if line.startswith("| HTTP 64 MiB echo"))
        self.assertIn("| 1000 | 950 (0.95×) | 700 (0.70×) |", bulk)

    def test_no_ratio_of_latencies_at_or_below_direct(self):
        r = complete_results()
        r["grpc"]["ringside"]["one"]["added_p99_us"] = -145.0
        table = render_table(r, ["http", "grpc"])
        row = next(line for line in table.splitlines() if line.startswith("| gRPC latency p50 / p99, 1"))
        self.assertIn("| +0 / -145 µs |", row)
        self.assertIn("| – / – | – / – |", row)


class TargetsTest(unittest.TestCase):
    def test_each_target_met_or_not(self):
        r = complete_results()
        for name, added in (("ringside", 30.0), ("floor", 25.0)):  # 1.2x the floor
            r["http"][name]["one"]["added_p50_us"] = added
            r["http"][name]["one"]["added_p99_us"] = added * 2
        r["http"]["ringside"]["saturation"]["rps"] = 8000.0   # 1.6x haproxy's 5000
        r["grpc"]["ringside"]["saturation"]["cpu_us_per_request"] = 20.0  # 0.67x haproxy's 30
        r["grpc"]["ringside"]["one"]["added_p50_us"] = 60.0
        r["grpc"]["ringside"]["one"]["added_p99_us"] = 120.0  # p99 over +110
        r["settings"]["loadavg_start"] = r["settings"]["loadavg_end"] = 0.5
        met = {t.split(" ≤ ")[0].split(" ≥ ")[0]: m for t, _, m in target_checks(r)}
        self.assertEqual(met, {
            "HTTP added latency p50 / p99": True,
            "HTTP requests/s at saturation": True,
            "64 MiB echo through both sidecars": True,  # 950 / 1000
            "HTTP CPU per forwarded request A+B": False,  # 30 / 30
            "gRPC CPU per forwarded request A+B": False,
            "gRPC proxied added latency p50 / p99": False,
        })


    def test_callee_shard_balance_when_the_callee_runs_two_shards(self):
        r = complete_results()
        r["http"]["callee_shards"] = {"app_calls": [1300.0, 1000.0], "busiest_over_quietest": 1.3}
        r["grpc"]["callee_shards"] = {"app_calls": [0.0, 2000.0], "busiest_over_quietest": None}
        met = {t: m for t, _, m in target_checks(r) if "callee" in t}
        self.assertEqual(met, {"HTTP load across the callee's 2 shards: busiest ÷ quietest ≤ 1.3": True,
                               "gRPC load across the callee's 2 shards: busiest ÷ quietest ≤ 1.3": False})
        table = render_table(r, ["http", "grpc"])
        self.assertIn("HTTP ringside callee B, calls handed to the app per shard: 1300 / 1000 "
                      "(busiest ÷ quietest 1.30)", table)
        self.assertIn("a shard served nothing", table)
        self.assertIn("(1 shard(s) per sidecar)", table)
        r["settings"]["callee_shards"] = 2
        self.assertIn("(ringside's A: 1 shard(s), B: 2 shard(s))", render_table(r, ["http"]))

    def test_per_shard_values_from_metrics_text(self):
        text = ('# TYPE ringside_app_calls_total counter\n'
                'ringside_app_calls_total{app_id="b",shard="1"} 7\n'
                'ringside_app_calls_total{app_id="b",shard="0"} 5\n'
                'ringside_app_calls_waiting{app_id="b",shard="0"} 9\n')
        self.assertEqual(per_shard_values(text, "ringside_app_calls_total", 3), [5.0, 7.0, 0.0])

    def test_no_latency_verdict_on_a_busy_host(self):
        r = complete_results()
        r["settings"]["loadavg_start"] = 1000.0
        verdicts = [m for t, _, m in target_checks(r)]
        self.assertEqual(verdicts, [None, False, False, False, True, None])

    def test_the_runs_own_load_at_the_end_does_not_withhold_the_latency_verdict(self):
        r = complete_results()
        r["settings"]["loadavg_start"] = 0.3
        r["settings"]["loadavg_end"] = 1000.0  # the saturation rounds' own load
        verdicts = [m for t, _, m in target_checks(r)]
        self.assertNotIn(None, verdicts)


if __name__ == "__main__":
    unittest.main()
