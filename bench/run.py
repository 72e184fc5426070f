"""Run the benchmark scenarios on PostgreSQL: `make bench` (or `python -m bench.run`).

Each scenario is a function in SCENARIOS: it gets the options, works in a scratch database that
the runner creates from DATABASE_URL (`<name>_bench`, migrated, dropped afterwards) and returns a
`Result`: our time, the baseline's time measured in the same run, and the statements each sent.
The results go to `bench/results/<UTC time>.json` and are printed as a table.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


@dataclass
class Result:
    scenario: str
    ours_seconds: float
    baseline_seconds: float | None  # None: no baseline, only the absolute time
    ours_queries: int
    baseline_queries: int | None = None
    baseline: str = ""  # what the baseline is
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.ours_seconds / self.baseline_seconds if self.baseline_seconds else None


SHOP_APPS = ("customers", "catalog", "orders", "payments")


def empty_shop_tables(models=None) -> None:
    """Empty every table of the shop's apps, or only those of `models` (TRUNCATE ... CASCADE: and
    the tables that refer to them), and restart their sequences."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection, transaction

    if models is None:
        models = [m for label in SHOP_APPS for m in apps.get_app_config(label).get_models()]
    tables = [m._meta.db_table for m in models]
    statements = connection.ops.sql_flush(no_style(), tables, reset_sequences=True, allow_cascade=True)
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


@contextmanager
def count_queries():
    """Count the statements sent through Django's cursors inside the block (a list: len() it)."""
    from django.db import connection

    sent = []

    def count(execute, sql, params, many, context):
        sent.append(1)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield sent


def utc_stamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def write_results(payload: dict, name: str) -> Path:
    """`payload` as JSON in bench/results/<name>.json (the directory made if missing)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def refuse(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr)
    raise SystemExit(2)


def setup_django() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        refuse(
            "the benchmarks run on PostgreSQL only. Set DATABASE_URL, e.g.\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop make bench\n"
            "(a scratch database <name>_bench is created next to it and dropped afterwards)."
        )
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    import logging

    import django

    django.setup()
    # The crawler logs in as each role: django-axes's line per login is not the benchmark's output.
    logging.getLogger("axes").setLevel(logging.WARNING)


def machine() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "python": platform.python_version(),
        "postgresql": server,
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()),
        "host": platform.node(),
        "commit": commit,
    }


def scenarios() -> list[Callable]:
    from bench import admin_pages, api_orders, demo_load, exports, imports, placement, seed_rate

    # admin_pages seeds the scratch database to each BENCH_SCALE size; exports and placement then
    # run on it.
    return [
        seed_rate.run,
        demo_load.run,
        admin_pages.run,
        exports.run,
        placement.run,
        api_orders.run,
        imports.run,
    ]


def seconds(value: float) -> str:
    """Seconds as the table shows them: milliseconds below 0.1 s (per order, per request)."""
    return f"{value * 1000:.2f} ms" if value < 0.1 else f"{value:.2f} s"


def print_table(results: list[Result]) -> None:
    header = ("scenario", "ours", "baseline", "ratio", "queries (ours/baseline)")
    rows = []
    for r in results:
        baseline = seconds(r.baseline_seconds) if r.baseline_seconds is not None else "—"
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "—"
        queries = f"{r.ours_queries:,} / {r.baseline_queries:,}" if r.baseline_queries is not None else "—"
        rows.append((r.scenario, seconds(r.ours_seconds), baseline, ratio, queries))
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))
    for r in results:
        details = ", ".join(
            f"{key} {value:,.0f}" if isinstance(value, float) else f"{key} {value}"
            for key, value in r.extra.items()
        )
        print(f"\n{r.scenario}: baseline = {r.baseline}. {r.note}".rstrip())
        if details:
            print(f"  {details}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="only", default="", help="run only scenarios whose name contains this")
    parser.add_argument("--orders", type=int, default=20_000, help="seed_rate: orders to seed")
    parser.add_argument("--customers", type=int, default=10_000, help="seed_rate: customers to seed")
    parser.add_argument("--products", type=int, default=1_000, help="seed_rate: products to seed")
    parser.add_argument(
        "--import-rows",
        default="10000,100000",
        help="imports: rows of each stock-count file (comma-separated)",
    )
    parser.add_argument(
        "--import-baseline-rows",
        type=int,
        default=10_000,
        help="imports: rows the services baseline is timed on",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    options = parser.parse_args(argv)

    setup_django()
    from django.db import connection

    chosen = [s for s in scenarios() if options.only in s.__module__.rsplit(".", 1)[-1]]
    if not chosen:
        refuse(f"no scenario matches {options.only!r}")

    name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"{name}_bench"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    info = machine()
    results = []
    started = time.perf_counter()
    try:
        for run in chosen:
            load_before = os.getloadavg()[0]
            produced = run(options)
            # A scenario returns one Result, or a list of them (one per page, per case).
            for result in produced if isinstance(produced, list) else [produced]:
                result.extra["load before/after"] = f"{load_before:.2f}/{os.getloadavg()[0]:.2f}"
                results.append(result)
    finally:
        if not options.keep:
            connection.creation.destroy_test_db(name, verbosity=0)

    stamp = utc_stamp()
    payload = {
        "when": stamp,
        "seconds": round(time.perf_counter() - started, 2),
        "machine": info,
        "options": vars(options),
        "results": [{**asdict(r), "ratio": r.ratio} for r in results],
    }
    path = write_results(payload, stamp)
    print_table(results)
    print(f"\nMachine: {info['cpus']} CPUs, load average {info['load_average'][0]:.2f} at the start.")
    print(f"Results written to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
