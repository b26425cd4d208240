"""Minimal Prometheus text-format parser: enough for ringsided's /metrics (no timestamps needed)."""
import re
import urllib.request

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """Returns a list of (name, {label: value}, float) for every sample line."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith('#'):
            continue
        m = _SAMPLE.match(line)
        if not m:
            continue
        labels = dict(_LABEL.findall(m.group(2) or ''))
        try:
            value = float(m.group(3))
        except ValueError:
            continue
        samples.append((m.group(1), labels, value))
    return samples


def fetch(port, host='127.0.0.1', timeout=5.0):
    """GET http://host:port/metrics as text."""
    with urllib.request.urlopen(f'http://{host}:{port}/metrics', timeout=timeout) as resp:
        return resp.read().decode('utf-8', 'replace')


def total(samples, name):
    """Sum of a metric over all its label sets (e.g. all shards); 0 when absent."""
    return sum(v for n, _, v in samples if n == name)
