"""ringside-perf: one-command profiling of a running ringsided (see tools/perf/README.md)."""
