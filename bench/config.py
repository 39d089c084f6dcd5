"""Sizes of a default run (a few minutes) and of ``--quick`` (a smoke run, under a minute)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Config:
    phones: int  # users with a paired phone (virtual users are drawn from them)
    wake_longpoll: int  # challenges woken through a long-poll, per server
    wake_repoll: int  # challenges seen by a browser re-polling every second, per server
    wake_unloaded: int  # long-poll logins one at a time, per server, before the loaded ones
    wake_longpoll_workers: int  # concurrent long-poll logins in the wake scenario
    wake_repoll_workers: int  # concurrent re-polling logins, at the same time
    throughput_logins: int
    throughput_bare: int  # bare DRF requests (half before, half after the logins)
    throughput_workers: int
    monitor_logins: int
    two_server_logins: int
    growth_levels: tuple[int, ...]
    growth_flows: int  # logins measured at each level
    waiters: int
    waiters_sample: int  # waiters woken (through the phone API) while the others wait
    waiters_ramp_per_s: int
    profile_logins: int
    slow_provider_starts: int  # push starts per server in the slow-provider scenario
    slow_provider_inline_starts: int  # the same with inline delivery (each waits 2 s)
    typical_pairs: int = 2  # typical site: login phases, each between two bare phases
    typical_logins: int = 150  # per login phase
    typical_bare: int = 600  # per bare phase
    typical_partial: int = 150  # per "login stopped early" phase (per-step CPU)
    demo_soak_workers: int = 16  # demo soak: users logging in at once on the demo's own configuration
    demo_soak_logins: int = 10  # logins per user
    time_limit: float = 240.0  # per scenario phase: every phase is bounded in time as well as count

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)


DEFAULT = Config(
    phones=300, wake_longpoll=1000, wake_repoll=200, wake_unloaded=100, wake_longpoll_workers=8,
    wake_repoll_workers=16, throughput_logins=600, throughput_bare=2400, throughput_workers=16,
    monitor_logins=20, two_server_logins=300,
    growth_levels=(0, 10_000, 100_000), growth_flows=150, waiters=10_000, waiters_sample=200,
    waiters_ramp_per_s=500, profile_logins=100, slow_provider_starts=400, slow_provider_inline_starts=48,
)
QUICK = Config(
    phones=40, wake_longpoll=60, wake_repoll=20, wake_unloaded=10, wake_longpoll_workers=6, wake_repoll_workers=8,
    throughput_logins=100, throughput_bare=400,
    throughput_workers=8, monitor_logins=5, two_server_logins=30, growth_levels=(0, 2_000), growth_flows=30,
    waiters=300, waiters_sample=20, waiters_ramp_per_s=1000, profile_logins=10, slow_provider_starts=60,
    slow_provider_inline_starts=16, time_limit=60.0,
    typical_pairs=1, typical_logins=40, typical_bare=160, typical_partial=40,
    demo_soak_workers=6, demo_soak_logins=3,
)
