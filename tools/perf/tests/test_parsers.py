#!/usr/bin/env python3
"""Unit tests of ringside-perf's parsers and renderers (no processes, no perf): the Prometheus text
parser, `perf script` folding, the stage-histogram arithmetic, callgrind totals, and the SVG and
speedscope writers; plus a bounded random-input pass over the two text parsers (they must never
raise on whatever a sidecar or perf prints). Run by CTest (ringside_perf_parsers_test)."""
import json
import math
import os
import random
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from ringside_perf import cmd_callgrind, cmd_stages, flamegraph_svg, folding, prom, speedscope  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'testdata', 'stage_metrics.prom')


class PromTest(unittest.TestCase):
    def test_samples_labels_and_values(self):
        text = ('# HELP x help\n# TYPE x counter\n'
                'ringside_http_requests_total{app_id="a",shard="0"} 12\n'
                'ringside_http_requests_total{app_id="a",shard="1"} 30\n'
                'plain_metric 1.5e3\n'
                'escaped{path="/v1.0/invoke/\\"b\\"/method"} 2\n'
                'inf_metric +Inf\n')
        samples = prom.parse(text)
        self.assertEqual(len(samples), 5)
        self.assertEqual(samples[0], ('ringside_http_requests_total', {'app_id': 'a', 'shard': '0'}, 12.0))
        self.assertEqual(prom.total(samples, 'ringside_http_requests_total'), 42.0)
        self.assertEqual(samples[2], ('plain_metric', {}, 1500.0))
        self.assertEqual(samples[3][1]['path'], '/v1.0/invoke/\\"b\\"/method')
        self.assertTrue(math.isinf(samples[4][2]))
        self.assertEqual(prom.total(samples, 'absent'), 0)

    def test_junk_lines_are_skipped(self):
        samples = prom.parse('garbage line\n{x="1"} 2\nname{a="1"} notanumber\n\n#comment\nok 1\n')
        self.assertEqual(samples, [('ok', {}, 1.0)])


class FoldingTest(unittest.TestCase):
    SCRIPT = ('ringside-shard0 1234/1240 100.000: 250000 cpu-clock:\n'
              '\t    55d0c1 ringside::http2::Endpoint::feed+0x1c (/build/bin/ringsided)\n'
              '\t    55d000 ringside::shard::Shard::run+0x2f (/build/bin/ringsided)\n'
              '\t    7f0000 [unknown] (/usr/lib/x86_64-linux-gnu/libc.so.6)\n'
              '\n'
              'thread with spaces 99/100 100.1: 250000 cpu-clock:\n'
              '\t    1 a;b+0x1 (/x)\n'
              '\t    2 [unknown] ([unknown])\n'
              '\n'
              'ringside-shard0 1234/1240 100.002: 250000 cpu-clock:\n'
              '\t    55d0c1 ringside::http2::Endpoint::feed+0x1c (/build/bin/ringsided)\n'
              '\t    55d000 ringside::shard::Shard::run+0x2f (/build/bin/ringsided)\n'
              '\t    7f0000 [unknown] (/usr/lib/x86_64-linux-gnu/libc.so.6)\n')

    def test_stacks_root_first_with_thread_names(self):
        stacks = folding.fold(self.SCRIPT)
        self.assertEqual(stacks['ringside-shard0;[libc.so.6];ringside::shard::Shard::run;ringside::http2::Endpoint::feed'], 2)
        # A frame's ';' cannot split it into two; an unknown frame without a DSO stays [unknown].
        self.assertEqual(stacks['thread with spaces;[unknown];a:b'], 1)
        self.assertEqual(sum(stacks.values()), 3)


class StagesTest(unittest.TestCase):
    def test_fixture_histograms_subtract_and_quantiles(self):
        with open(FIXTURE) as f:
            hists = cmd_stages.histograms(prom.parse(f.read()))
        self.assertIn('ingress_parse', hists)
        h = hists['ingress_parse']
        self.assertGreater(h['count'], 0)
        self.assertLessEqual(cmd_stages.quantile(h, 0.5), cmd_stages.quantile(h, 0.99))
        zero = cmd_stages.subtract(hists, hists)
        self.assertEqual(zero['ingress_parse']['count'], 0)
        self.assertIsNone(cmd_stages.quantile(zero['ingress_parse'], 0.5))

    def test_quantile_is_the_upper_bound_of_its_bucket(self):
        h = {'buckets': {1e-6: 10, 1e-5: 90, 1e-4: 100, math.inf: 100}, 'sum': 0.0, 'count': 100}
        self.assertEqual(cmd_stages.quantile(h, 0.05), 1e-6)
        self.assertEqual(cmd_stages.quantile(h, 0.5), 1e-5)
        self.assertEqual(cmd_stages.quantile(h, 0.99), 1e-4)
        over = {'buckets': {1e-6: 0, math.inf: 5}, 'sum': 0.0, 'count': 5}
        self.assertEqual(cmd_stages.quantile(over, 0.5), math.inf)


class CallgrindTest(unittest.TestCase):
    def test_totals_of_every_thread_file_are_summed(self):
        with tempfile.TemporaryDirectory() as d:
            base = os.path.join(d, 'callgrind.out')
            for path, ir in ((base, 1000), (base + '-02', 234), (base + '.3', 5)):
                with open(path, 'w') as f:
                    f.write(f'version: 1\ncreator: callgrind\nevents: Ir\nfn=main\n1 10\ntotals: {ir}\n')
            self.assertEqual(cmd_callgrind._instructions(base), 1239)


class RenderTest(unittest.TestCase):
    STACKS = {'shard0;run;feed': 3, 'shard0;run;send': 1, 'ctrl;<poll & "wait">': 2}

    def test_svg_is_well_formed_and_escapes_names(self):
        svg = flamegraph_svg.render(self.STACKS, 'title <&>')
        root = ET.fromstring(svg.split('\n', 1)[1])  # after the XML declaration
        titles = [t.text for t in root.iter('{http://www.w3.org/2000/svg}title')]
        self.assertTrue(any('<poll & "wait">' in t for t in titles), titles)
        self.assertTrue(any(t.startswith('all (6 samples') for t in titles), titles)

    def test_speedscope_matches_the_stacks(self):
        doc = json.loads(speedscope.render(self.STACKS, 'p'))
        prof = doc['profiles'][0]
        self.assertEqual(prof['type'], 'sampled')
        self.assertEqual(sum(prof['weights']), 6)
        frames = [f['name'] for f in doc['shared']['frames']]
        stacks = {';'.join(frames[i] for i in s): w for s, w in zip(prof['samples'], prof['weights'])}
        self.assertEqual(stacks, self.STACKS)


class RandomInputTest(unittest.TestCase):
    """Bounded random pass (fixed seed): printable junk, fragments of real lines, and bytes that
    decode to odd characters. Neither parser may raise."""

    def test_parsers_never_raise(self):
        rng = random.Random(20261205)
        pieces = ['ringside_x{a="1"} 2', '{', '}', '"', '\\', '=', ' ', '\t', '\n', '+Inf', 'NaN', '-1e309',
                  '# HELP', 'le="0.1"', '1234/5678', ' (/lib/x.so)', '+0x1f', '[unknown]', ';', 'cpu-clock:', '\x00']
        for _ in range(3000):
            text = ''.join(rng.choice(pieces) if rng.random() < 0.7 else chr(rng.randrange(1, 0x3000))
                           for _ in range(rng.randrange(0, 60)))
            prom.parse(text)
            folding.fold(text)
            cmd_stages.histograms(prom.parse(text))
            # Stage histogram lines with junk bounds and values are skipped, never raised on.
            cmd_stages.histograms(prom.parse(f'ringside_stage_latency_seconds_bucket{{stage="x",le="{text[:8]}"}} 1'))


if __name__ == '__main__':
    unittest.main()
