"""The benchmark package imports and its pure helpers work (nothing heavy runs here)."""
from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    ["bench.client", "bench.config", "bench.counting", "bench.stats", "bench.report", "bench.servers",
     "bench.flows", "bench.scenarios.wake", "bench.scenarios.throughput", "bench.scenarios.waiters",
     "bench.scenarios.growth", "bench.scenarios.monitor"],
)
def test_imports(module):
    importlib.import_module(module)


def test_percentiles():
    from bench.stats import percentile, summary_ms

    samples = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    assert percentile(samples, 50) == 0.05
    assert percentile(samples, 99) == 0.099
    assert percentile([], 50) is None
    summary = summary_ms(samples)
    assert (summary["n"], summary["p50"], summary["max"]) == (100, 50.0, 100.0)


def test_quick_run_is_smaller_than_default():
    from bench.config import DEFAULT, QUICK

    assert DEFAULT.waiters == 10_000 and DEFAULT.wake_longpoll >= 1000
    assert max(DEFAULT.growth_levels) == 100_000
    assert QUICK.waiters < DEFAULT.waiters and QUICK.time_limit < DEFAULT.time_limit


def test_table_renders_partial_results():
    from bench.report import markdown, table

    results = {"started_at": "x", "machine": {"nproc": 2}, "scenarios": {
        "throughput": {"wsgi": {"logins": {"per_s": 50.0}, "bare_per_s": 400.0, "bare_requests_per_login": 8.0}},
        "growth": {"error": "Traceback ..."},
    }}
    text = table(results)
    assert "8.00 bare/login" in text and "ok" in text
    assert "growth" in text and "FAILED" in text
    assert markdown(results).startswith("| measure")
