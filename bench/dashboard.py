"""``python -m bench.dashboard [--events 1000000] [--repeat 5]``: the admin dashboard on a large log.

Creates its own PostgreSQL database (``pushmfa_bench_dashboard``, dropped and re-created), migrates
it, seeds 1,000 users, a credential mix and ``--events`` security events spread over 90 days (in
one ``INSERT ... SELECT generate_series`` statement, kinds weighted as a busy site's log: mostly
approvals and completed steps, some denials, wrong numbers, reports and rate-limit hits), runs
``ANALYZE``, then times :func:`django_pushmfa.admin.dashboard_data.collect` — the seven queries the
page runs — ``--repeat`` times with the ``pushmfa_event_kind_time`` index and again after dropping
it (the ratio of the two is the figure that matters; absolute times depend on the machine). Prints
the query plans of the per-day query and a table; ``--json PATH`` writes the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

DB_NAME = os.environ.get("PUSHMFA_BENCH_DASHBOARD_DB", "pushmfa_bench_dashboard")
INDEX = "pushmfa_event_kind_time"
# (kind, weight): roughly what a site with push as its main method logs.
KINDS = [
    ("push_approved", 40), ("mfa_completed", 40), ("push_denied", 4), ("push_mfa_wrong_number", 2),
    ("push_reported", 1), ("rate_limited", 2), ("mfa_failed", 3), ("credential_added", 2),
    ("push_suspended", 1), ("browser_trusted", 5),
]


def _recreate_database() -> None:
    import psycopg

    args = {"host": os.environ.get("PGHOST", "127.0.0.1"), "user": os.environ.get("PGUSER", "postgres")}
    with psycopg.connect(dbname="postgres", autocommit=True, **args) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def _seed(events: int) -> float:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from django_pushmfa.models import MFACredential

    User = get_user_model()
    hashed = make_password("not-used")
    User.objects.bulk_create(User(username=f"user{i:04d}", password=hashed) for i in range(1000))
    users = list(User.objects.order_by("pk").values_list("pk", flat=True))
    methods = ["push", "totp", "webauthn", "backup_codes"]
    MFACredential.objects.bulk_create(
        MFACredential(user_id=pk, method=methods[i % 4], label="")
        for i, pk in enumerate(users) if i % 5  # 80% of the users have one method
    )
    weighted = [kind for kind, weight in KINDS for _ in range(weight)]
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO pushmfa_securityevent (user_id, kind, created_at, ip, user_agent, detail)
            SELECT %s + (random() * %s)::int,
                   (%s::text[])[1 + floor(random() * %s)::int],
                   now() - random() * interval '90 days',
                   ('10.' || (random() * 3)::int || '.' || (random() * 255)::int
                    || '.' || (random() * 255)::int)::inet,
                   '', '{}'::jsonb
            FROM generate_series(1, %s)
            """,
            [users[0], len(users) - 1, weighted, len(weighted), events],
        )
        # What autovacuum does to a real table (statistics, and the visibility map that lets the
        # index answer alone).
        cursor.execute("VACUUM ANALYZE pushmfa_securityevent")
    return time.perf_counter() - began


def _time_collect(repeat: int) -> dict[str, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from django_pushmfa.admin.dashboard_data import collect

    collect()  # warm the cache of the plans and the buffers
    runs = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            collect()
            runs.append(time.perf_counter() - began)
    return {"median_s": statistics.median(runs), "min_s": min(runs), "max_s": max(runs), "queries": len(queries)}


def _plan() -> str:
    from django.db.models import Count
    from django.db.models.functions import TruncDate
    from django.utils import timezone

    from django_pushmfa.admin.dashboard_data import DAILY_KINDS
    from django_pushmfa.models import SecurityEvent

    since = timezone.now() - timezone.timedelta(days=30)
    query = (
        SecurityEvent.objects.order_by().filter(kind__in=DAILY_KINDS, created_at__gte=since)
        .annotate(day=TruncDate("created_at")).values_list("day", "kind").annotate(n=Count("id"))
    )
    return query.explain()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.dashboard_settings")
    _recreate_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    seeded = _seed(args.events)
    print(f"seeded {args.events:,} events in {seeded:.1f} s")
    with_index = _time_collect(args.repeat)
    plan_with = _plan()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {INDEX}")
        cursor.execute("VACUUM ANALYZE pushmfa_securityevent")
    without_index = _time_collect(args.repeat)
    plan_without = _plan()
    print("\nper-day query, with the index:\n" + plan_with + "\n\nwithout it:\n" + plan_without + "\n")
    print(f"{'':24}{'median':>10}{'min':>10}{'max':>10}{'queries':>9}")
    for name, figures in (("with (kind, created_at)", with_index), ("without", without_index)):
        print(f"{name:24}{figures['median_s'] * 1000:>8.0f}ms{figures['min_s'] * 1000:>8.0f}ms"
              f"{figures['max_s'] * 1000:>8.0f}ms{figures['queries']:>9}")
    ratio = without_index["median_s"] / with_index["median_s"]
    print(f"\nthe index makes the dashboard {ratio:.1f}x faster on {args.events:,} events")
    if args.json:
        with open(args.json, "w") as out:
            figures = {"events": args.events, "with_index": with_index, "without_index": without_index,
                       "ratio": ratio, "plan_with_index": plan_with, "plan_without_index": plan_without}
            json.dump(figures, out, indent=2)
    from django.db import connections

    connections.close_all()
    _recreate_database()  # leave an empty database, not 1M rows
    return 0


if __name__ == "__main__":
    sys.exit(main())
