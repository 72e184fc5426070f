"""Scenario admin_pages: admin page times at two data sizes, against plain `ModelAdmin`s.

Pages: the orders list (first page, a status filter, searches by customer email, order number
and tracking number), the products list filtered to low stock, a customer's page and an order's
page. Ours is the shop's admin (`admin/`); the baseline is the same models on Django's default
`ModelAdmin` (`bench/baseline_admin.py`, mounted at `baseline/` by `bench/urls.py`), on the same
data in the same run. Each page: a warm-up request, then the median of up to REPEATS requests
(fewer when a page is slow, see `MAX_SECONDS`) through the test client logged in as a superuser.
`sql` is the page's own statements (captured, then re-run with a cursor, times summed): the rest
of the page time is Python (ORM, forms, templates).

Inside `make bench` (`bench.run`) the scratch database is seeded to each size of BENCH_SCALE
(default `10000,1000000` orders, 100,000 customers and 10,000 products; the quick mode
`BENCH_SCALE=2000,20000` takes a few minutes) and ANALYZEd before measuring. Standalone, it
measures whatever DATABASE_URL holds:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shopscale python -m bench.admin_pages --label 10k
"""

import argparse
import datetime
import json
import os
import statistics
import sys
import time

REPEATS = 7  # medians of up to this many requests
# Per page and side: stop repeating (after at least 3 requests) once this many seconds are spent.
MAX_SECONDS = float(os.environ.get("BENCH_PAGE_SECONDS", "10"))
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "100000"))
PRODUCTS = int(os.environ.get("BENCH_PRODUCTS", "10000"))
NOW = datetime.datetime(2026, 11, 27, tzinfo=datetime.UTC)


def scale_sizes() -> list[int]:
    raw = os.environ.get("BENCH_SCALE", "10000,1000000")
    return [int(part.replace("_", "")) for part in raw.split(",") if part.strip()]


def pick_subjects() -> dict:
    """The same order, customer and tracking number at every size: from the first 10k orders.
    The tracking number is a later part's of an order shipped in several (seed_scale ships some
    in two), when there is one: the search finds the order by any of its shipments."""
    from django.db.models import Count

    from orders.models import Order, Shipment

    first = Order.objects.order_by("pk").values_list("pk", flat=True)[:10_000]
    shipments = Shipment.objects.filter(order_id__in=list(first)).exclude(tracking_number="")
    in_parts = (
        Order.objects.filter(pk__in=list(first))
        .annotate(parts=Count("shipment"))
        .filter(parts__gt=1)
        .values_list("pk", flat=True)
    )
    if in_parts.exists():
        shipments = shipments.filter(order_id__in=in_parts)
    shipments = shipments.order_by("order_id", "-shipped_at", "-pk")
    count = shipments.count()
    shipment = shipments.select_related("order__customer")[count // 2]
    order = shipment.order
    return {
        "order_pk": order.pk,
        "order_number": order.number,
        "customer_pk": order.customer_id,
        "customer_email": order.customer.email,
        "tracking_number": shipment.tracking_number,
    }


def pages(subjects: dict) -> list[tuple[str, str, dict]]:
    from urllib.parse import urlencode

    def q(term):
        return "?" + urlencode({"q": term})

    return [
        ("orders list", "orders/order/", {}),
        ("orders ?status=paid", "orders/order/?status=paid", {}),
        ("orders search email", "orders/order/" + q(subjects["customer_email"]), {}),
        ("orders search number", "orders/order/" + q(subjects["order_number"]), {}),
        ("orders search tracking", "orders/order/" + q(subjects["tracking_number"]), {}),
        ("products ?stock_level=low", "catalog/product/?stock_level=low", {}),
        ("customer page", f"customers/customer/{subjects['customer_pk']}/change/", {}),
        ("order page", f"orders/order/{subjects['order_pk']}/change/", {}),
    ]


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


def time_page(client, url: str) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # Warm-up: the first request in a process also fills per-process caches (content types,
    # permissions), so its statements are not the page's own. Counted on the next one.
    started = time.perf_counter()
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code}")
    # A page taking many seconds (the baseline's order page: a <select> of every customer) is
    # timed once more only; the others REPEATS times, or at least 3 within MAX_SECONDS.
    least = 3 if time.perf_counter() - started < MAX_SECONDS / 3 else 1
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    times = [time.perf_counter() - started]
    captured = list(ctx.captured_queries)
    spent = times[0]
    while len(times) < REPEATS and (len(times) < least or spent < MAX_SECONDS):
        started = time.perf_counter()
        client.get(url)
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


def measure(label: str) -> dict:
    """Every page, ours and the baseline, on the current database."""
    from django.db import connection
    from django.test import Client, override_settings

    from orders.models import Order

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    subjects = pick_subjects()
    client = Client()
    client.force_login(superuser())
    rows = []
    with override_settings(ROOT_URLCONF="bench.urls", DEBUG=False, ALLOWED_HOSTS=["testserver"]):
        for name, path, _ in pages(subjects):
            ours = time_page(client, "/admin/" + path)
            baseline = time_page(client, "/baseline/" + path)
            rows.append({"page": name, "path": path, "ours": ours, "baseline": baseline})
            print(
                f"  [{label}] {name}: ours {ours['seconds'] * 1000:.0f} ms ({ours['queries']} q), "
                f"baseline {baseline['seconds'] * 1000:.0f} ms ({baseline['queries']} q)",
                flush=True,
            )
    return {"label": label, "orders": Order.objects.count(), "subjects": subjects, "pages": rows}


def print_pages(measurements: list[dict]) -> None:
    header = ("size", "page", "ours", "baseline", "ratio", "queries ours/base", "our SQL")
    lines = []
    for m in measurements:
        for row in m["pages"]:
            ours, base = row["ours"], row["baseline"]
            lines.append(
                (
                    m["label"],
                    row["page"],
                    f"{ours['seconds'] * 1000:.1f} ms",
                    f"{base['seconds'] * 1000:.1f} ms",
                    f"{ours['seconds'] / base['seconds']:.3f}x",
                    f"{ours['queries']} / {base['queries']}",
                    f"{ours['sql_seconds'] * 1000:.1f} ms",
                )
            )
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    print(fmt.format(*header))
    print(fmt.format(*("-" * w for w in widths)))
    for line in lines:
        print(fmt.format(*line))
    if len(measurements) >= 2:
        small, big = measurements[0], measurements[-1]
        print(f"\n{big['label']} vs {small['label']}:")
        for a, b in zip(small["pages"], big["pages"], strict=True):
            growth = b["ours"]["seconds"] / a["ours"]["seconds"]
            speedup = b["baseline"]["seconds"] / b["ours"]["seconds"]
            print(
                f"  {a['page']}: ours grew {growth:.2f}x, queries {a['ours']['queries']} -> "
                f"{b['ours']['queries']}, {speedup:.1f}x faster than the baseline at {big['label']}"
            )


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
            results.append(
                Result(
                    scenario=f"admin {row['page']} @{label}",
                    ours_seconds=row["ours"]["seconds"],
                    baseline_seconds=row["baseline"]["seconds"],
                    ours_queries=row["ours"]["queries"],
                    baseline_queries=row["baseline"]["queries"],
                    baseline="plain ModelAdmin (bench/baseline_admin.py)",
                    extra={"our SQL ms": round(row["ours"]["sql_seconds"] * 1000, 1)},
                )
            )
    print_pages(measurements)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Measure the admin pages on DATABASE_URL as it is.")
    parser.add_argument("--label", required=True, help="a name for this size, e.g. 10k")
    parser.add_argument("--out", default="", help="JSON file (default: under bench/results/)")
    options = parser.parse_args(argv)
    from bench.run import RESULTS, machine, setup_django

    setup_django()
    load_before = os.getloadavg()
    m = measure(options.label)
    m["load_before"] = list(load_before)
    m["load_after"] = list(os.getloadavg())
    m["machine"] = machine()
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = options.out or RESULTS / f"admin_pages-{options.label}-{stamp}.json"
    with open(path, "w") as f:
        json.dump(m, f, indent=2)
    print_pages([m])
    print(f"load {load_before[0]:.2f} -> {os.getloadavg()[0]:.2f}; written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
