"""Scenario admin_pages: every admin page (`bench.crawl`) at two data sizes, against plain `ModelAdmin`s.

The pages are crawled from the admin's registry (`bench.crawl.crawl_pages`): every list, each
filter choice, each date drill-down level, a search per search field, a change page, every
staff operation's page, every export page and each role's dashboard. Ours is the shop's admin
(`admin/`); the baseline is the same models on Django's default `ModelAdmin` with the same
search fields, filters and drill-down (`bench/baseline_admin.py`, mounted at `baseline/` by
`bench/urls.py`), where it has the page, on the same data in the same run. Each page: a warm-up
request, then the median of up to REPEATS requests (fewer when a page is slow, see
`MAX_SECONDS`) through the test client. `SQL` is the page's own statements (captured, then re-run
with a cursor, times summed): the rest of the page time is Python (ORM, forms, templates). `plan`
is PostgreSQL's plan of every statement: FAIL when one reads a whole table of more than
100,000 rows (`bench.crawl.plan_verdict`).

Inside `make bench` (`bench.run`) the scratch database is seeded to each size of BENCH_SCALE
(default `10000,1000000` orders, 100,000 customers and 10,000 products; the quick mode
`BENCH_SCALE=2000,20000` takes a few minutes) and ANALYZEd before measuring. Standalone, it
measures whatever DATABASE_URL holds (`--only` keeps the pages whose name contains a text):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shopscale python -m bench.admin_pages --label 10k
"""

import argparse
import datetime
import functools
import json
import os
import statistics
import sys
import time

REPEATS = 5  # medians of up to this many requests
GROWTH_GOAL = 1.5  # a page at the largest size within this factor of the smallest
# Per page and side: stop repeating (after at least 3 requests) once this many seconds are spent.
MAX_SECONDS = float(os.environ.get("BENCH_PAGE_SECONDS", "3"))
# A page whose warm-up takes this long is timed by its warm-up alone (not twice).
WARM_UP_ONLY_SECONDS = 30.0
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "100000"))
PRODUCTS = int(os.environ.get("BENCH_PRODUCTS", "10000"))
NOW = datetime.datetime(2026, 11, 27, tzinfo=datetime.UTC)


def scale_sizes() -> list[int]:
    raw = os.environ.get("BENCH_SCALE", "10000,1000000")
    return [int(part.replace("_", "")) for part in raw.split(",") if part.strip()]


def superuser():
    from django.contrib.auth import get_user_model

    User = get_user_model()
    user = User.objects.filter(username="bench-admin").first()
    if user is None:
        user = User.objects.create_superuser("bench-admin", "bench-admin@example.com", "not-used-force-login")
    return user


def sql_seconds(captured: list[dict]) -> float:
    """Re-run a page's SELECTs (as sent, parameters bound client-side) and sum their times."""
    from django.db import connection

    total = 0.0
    with connection.cursor() as cursor:
        for query in captured:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith(("SELECT", "WITH", "EXPLAIN")):
                continue
            started = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            total += time.perf_counter() - started
    return total


def time_page(get, name: str, *, strict: bool = True) -> dict | None:
    """`get()` (one request) timed: a warm-up, then the median of up to REPEATS requests.

    A page that does not answer 200 fails the run (`strict`), or has no figures (the baseline,
    which lacks some of our pages' parameters).
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # Warm-up: the first request in a process also fills per-process caches (content types,
    # permissions), so its statements are not the page's own. Counted on the next one.
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as warm:
        response = get()
    warm_up = time.perf_counter() - started
    if response.status_code != 200:
        if strict:
            raise RuntimeError(f"{name}: HTTP {response.status_code}")
        return None
    if warm_up >= WARM_UP_ONLY_SECONDS:
        # Minutes (the baseline's change pages at 1M: a <select> of every order, rendered): the
        # warm-up is the measurement; what it also warmed is nothing beside that.
        return {
            "seconds": warm_up,
            "runs": 1,
            "queries": len(warm.captured_queries),
            "sql_seconds": sql_seconds(warm.captured_queries),
            "statements": [q["sql"] for q in warm.captured_queries],
        }
    # A page taking many seconds (the baseline's order page: a <select> of every customer) is
    # timed once more only; the others REPEATS times, or at least 3 within MAX_SECONDS.
    least = 3 if warm_up < MAX_SECONDS / 3 else 1
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as ctx:
        get()
    times = [time.perf_counter() - started]
    captured = list(ctx.captured_queries)
    spent = times[0]
    while len(times) < REPEATS and (len(times) < least or spent < MAX_SECONDS):
        started = time.perf_counter()
        get()
        elapsed = time.perf_counter() - started
        times.append(elapsed)
        spent += elapsed
    sql = [sql_seconds(captured) for _ in range(min(3, len(times)))]
    return {
        "seconds": statistics.median(times),
        "runs": len(times),
        "queries": len(captured),
        "sql_seconds": statistics.median(sql),
        "statements": [q["sql"] for q in captured],
    }


def _client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def measure(label: str, *, check_plans: bool = True, only: str = "") -> dict:
    """Every crawled page (bench.crawl), ours and the baseline's where it has the page."""
    from django.db import connection
    from django.test import override_settings

    from bench.crawl import crawl_pages, fetch, plan_verdict, role_user
    from orders.models import Order

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    admin_user = superuser()
    clients = {"": _client(admin_user)}
    rows = []
    with override_settings(ROOT_URLCONF="bench.urls", DEBUG=False, ALLOWED_HOSTS=["testserver"]):
        pages = [page for page in crawl_pages(admin_user) if only in page.name]
        for page in pages:
            if page.user not in clients:
                clients[page.user] = _client(role_user(page.user))
            client = clients[page.user]
            ours = time_page(functools.partial(fetch, client, page), page.name)
            ours["plan"] = plan_verdict(ours["statements"]) if check_plans else []
            baseline = None
            if page.data is None and page.model and baseline_has(page):
                baseline = time_page(
                    functools.partial(client.get, "/baseline/" + page.path), page.name, strict=False
                )
            rows.append({"page": page.name, "path": page.path, "ours": ours, "baseline": baseline})
            base_text = f", baseline {baseline['seconds'] * 1000:.0f} ms" if baseline else ""
            verdict = "whole-table read" if ours["plan"] else "ok"
            print(
                f"  [{label}] {page.name}: {ours['seconds'] * 1000:.0f} ms ({ours['queries']} q, "
                f"SQL {ours['sql_seconds'] * 1000:.0f} ms, plan {verdict}){base_text}",
                flush=True,
            )
            for problem in ours["plan"]:
                print(f"      {problem}", flush=True)
    return {"label": label, "orders": Order.objects.count(), "pages": rows}


def baseline_has(page) -> bool:
    """Whether the plain-ModelAdmin site has this page: its lists, searches and change pages."""
    from bench.baseline_admin import baseline_site

    app, model = page.model.split(".")
    registered = any(m._meta.label_lower == page.model for m in baseline_site._registry)
    rest = page.path[len(f"{app}/{model}/") :]
    return registered and (rest.startswith("?") or rest == "" or rest.endswith("/change/"))


def print_pages(measurements: list[dict]) -> None:
    """The crawler's table: every page at each size, its growth, statements and plan verdict."""
    by_size = [{row["page"]: row for row in m["pages"]} for m in measurements]
    small = by_size[0]
    header = ["page"]
    for m in measurements:
        header += [f"{m['label']}", "q", "SQL"]
    header += ["growth", "baseline", "vs base", "plan"]
    lines = []
    for name, first in small.items():
        line = [name]
        for size in by_size:
            row = size.get(name)
            if row is None:
                line += ["—", "—", "—"]
                continue
            line += [
                f"{row['ours']['seconds'] * 1000:.1f} ms",
                str(row["ours"]["queries"]),
                f"{row['ours']['sql_seconds'] * 1000:.1f}",
            ]
        last = by_size[-1].get(name)
        growth = last["ours"]["seconds"] / first["ours"]["seconds"] if last else None
        base = last["baseline"] if last else None
        line += [
            f"{growth:.2f}x" if growth else "—",
            f"{base['seconds'] * 1000:.0f} ms" if base else "—",
            f"{last['ours']['seconds'] / base['seconds']:.2f}x" if base else "—",
            "FAIL" if last and last["ours"]["plan"] else "ok",
        ]
        lines.append(line)
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    print(fmt.format(*header))
    print(fmt.format(*("-" * w for w in widths)))
    for line in lines:
        print(fmt.format(*line))
    failing = [line[0] for line in lines if line[-1] == "FAIL"]
    grown = [line[0] for line in lines if line[-4] != "—" and float(line[-4][:-1]) > GROWTH_GOAL]
    print(
        f"\n{len(lines)} pages; whole-table reads at the largest size: {len(failing)}; "
        f"grew more than {GROWTH_GOAL}x: {len(grown)}"
    )
    for name in failing:
        print(f"  plan FAIL: {name}")
    for name in grown:
        print(f"  grew: {name}")


def run(options):
    """Runner entry point (`bench.run`): seed each BENCH_SCALE size in the scratch database."""
    from bench.run import Result, empty_shop_tables
    from shop.devtools.scale import seed_scale

    empty_shop_tables()
    measurements = []
    results = []
    for orders in scale_sizes():
        started = time.perf_counter()
        seed_scale(customers=CUSTOMERS, products=PRODUCTS, orders=orders, now=NOW, check=False)
        print(f"admin_pages: seeded {orders:,} orders in {time.perf_counter() - started:.0f} s", flush=True)
        label = f"{orders:,}"
        m = measure(label)
        measurements.append(m)
        for row in m["pages"]:
            ours, base = row["ours"], row["baseline"]
            results.append(
                Result(
                    scenario=f"admin {row['page']} @{label}",
                    ours_seconds=ours["seconds"],
                    baseline_seconds=base["seconds"] if base else None,
                    ours_queries=ours["queries"],
                    baseline_queries=base["queries"] if base else None,
                    baseline="plain ModelAdmin (bench/baseline_admin.py)" if base else "",
                    note="; ".join(ours["plan"]),
                    extra={"our SQL ms": round(ours["sql_seconds"] * 1000, 1)},
                )
            )
    print_pages(measurements)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Measure the admin pages on DATABASE_URL as it is.")
    parser.add_argument("--label", required=True, help="a name for this size, e.g. 10k")
    parser.add_argument("--only", default="", help="only the pages whose name contains this")
    parser.add_argument("--out", default="", help="JSON file (default: under bench/results/)")
    options = parser.parse_args(argv)
    from bench.run import machine, setup_django, utc_stamp, write_results

    setup_django()
    load_before = os.getloadavg()
    m = measure(options.label, only=options.only)
    m["load_before"] = list(load_before)
    m["load_after"] = list(os.getloadavg())
    m["machine"] = machine()
    if options.out:
        path = options.out
        with open(path, "w") as f:
            json.dump(m, f, indent=2)
    else:
        path = write_results(m, f"admin_pages-{options.label}-{utc_stamp()}")
    print_pages([m])
    print(f"load {load_before[0]:.2f} -> {os.getloadavg()[0]:.2f}; written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
