"""Benchmarks of django-pushmfa: wake latency, throughput against bare DRF, round trips, concurrent
waiters, growth, two servers sharing Redis. Run ``./bench/run`` (see bench/README.md)."""
