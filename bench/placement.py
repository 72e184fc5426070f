"""Scenario placement: orders placed per second by 8 concurrent processes, against raw psycopg.

Ours: WORKERS processes (spawned: each runs `django.setup()`), each calling
`orders.services.order_place` in a loop for SECONDS, placing 2-line orders (1 each of two
different products, customers and products chosen at random). Two cases: spread over 1,000
products and hot on 5 products, restocked first with `catalog.services.stock_receive` so nothing
runs out. Baseline: the same processes running a hand-written psycopg 3 transaction that does the
same reads and writes: the customer's default address and the products' names and prices, then
SELECT ... FOR UPDATE of the stock rows in pk order, the availability check, one UPDATE of stock,
INSERT order, UPDATE its number, INSERT lines, INSERT ledger rows, INSERT the event. Both retry a
deadlock or serialization failure up to 5 times; `errors` counts what still failed (anything but
InsufficientStock). Afterwards `shop.backoffice.integrity.find_violations()` must find nothing (oversells).
Each side also reports where the machine's CPUs went, per order placed: the workers' own CPU
(Python and the driver) and PostgreSQL's processes' (read from /proc, so for a database on this
machine; "-" otherwise).

Standalone, on DATABASE_URL as it is (it adds orders and stock):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shopscale python -m bench.placement
"""

import multiprocessing
import os
import random
import sys
import threading
import time

WORKERS = int(os.environ.get("BENCH_WORKERS", "8"))
SECONDS = float(os.environ.get("BENCH_PLACEMENT_SECONDS", "20"))
CASES = {"spread": 1000, "hot": 5}
# Units available of each product before a case (more than a run can sell, so nothing runs out).
AVAILABLE = {"spread": 10_000, "hot": 200_000}
CUSTOMER_POOL = 2000


def database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def conninfo(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def _setup(url: str) -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:
        sys.path.insert(0, root)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    import django

    django.setup()
    from django.conf import settings

    # As in production: with DEBUG on (the development .env) Django also records every
    # statement in connection.queries, which would be measured as part of order placement.
    settings.DEBUG = False


def _wait(start_at: float) -> float:
    """Sleep until the common start; return how late this worker arrived (0 if on time)."""
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    return max(0.0, -delay)


def ours_worker(url, product_ids, customer_ids, start_at, seconds, seed, queue):
    _setup(url)
    from catalog.exceptions import InsufficientStock
    from catalog.models import Product
    from customers.models import Customer
    from orders.services import order_place

    products = list(Product.objects.filter(pk__in=product_ids))
    customers = list(Customer.objects.filter(pk__in=customer_ids))
    rng = random.Random(seed)
    done = short = errors = 0
    late = _wait(start_at)
    cpu = time.process_time()
    deadline = start_at + seconds
    while time.time() < deadline:
        a, b = rng.sample(products, 2)
        try:
            order_place(customer=rng.choice(customers), lines=[(a, 1), (b, 1)])
            done += 1
        except InsufficientStock:
            short += 1
        except Exception as error:  # counted and reported
            errors += 1
            if errors <= 3:
                print(f"ours worker error: {error!r}", file=sys.stderr)
    queue.put((done, short, errors, late, time.process_time() - cpu))


BASELINE_SQL = {
    "address": """SELECT a.line1, a.line2, a.city, a.state, a.postal_code, a.country,
        c.first_name || ' ' || c.last_name, c.phone FROM customers_address a
        JOIN customers_customer c ON c.id = a.customer_id
        WHERE a.customer_id = %s AND a.is_default_shipping LIMIT 1""",
    "products": "SELECT id, name, sku, price FROM catalog_product WHERE id = ANY(%s) ORDER BY id",
    "lock": """SELECT product_id, on_hand, allocated FROM catalog_stock
        WHERE product_id = ANY(%s) ORDER BY product_id FOR UPDATE""",
    "allocate": """UPDATE catalog_stock SET allocated = allocated + 1, updated_at = now()
        WHERE product_id = ANY(%s)""",
    "order": """INSERT INTO orders_order (customer_id, status, currency, subtotal, shipping_cost,
        total, shipping_name, shipping_line1, shipping_line2, shipping_city, shipping_state,
        shipping_postal_code, shipping_country, shipping_phone, payment_method_label, created_at,
        updated_at) VALUES (%s, 'placed', 'USD', %s, 0, %s, %s, %s, %s, %s, %s, %s, %s, %s, '',
        now(), now()) RETURNING id""",
    "number": "UPDATE orders_order SET number = %s WHERE id = %s",
    "lines": """INSERT INTO orders_orderline (order_id, product_id, product_name, sku, unit_price,
        quantity, line_total, quantity_shipped, quantity_returned) SELECT %s, *, 0, 0 FROM
        UNNEST(%s::bigint[], %s::varchar[], %s::varchar[], %s::numeric[], %s::int[], %s::numeric[])""",
    "ledger": """INSERT INTO catalog_stockmovement (product_id, kind, reason, on_hand_delta,
        allocated_delta, order_number, note, created_at)
        SELECT p, 'allocation', '', 0, 1, %s, '', now() FROM UNNEST(%s::bigint[]) AS p""",
    "event": """INSERT INTO orders_orderevent (order_id, kind, from_status, to_status, message,
        created_at) VALUES (%s, 'placed', '', 'placed', %s, now())""",
}


class Short(Exception):
    pass


def _baseline_order(conn, customer_id, ids):
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(BASELINE_SQL["address"], [customer_id])
        address = cur.fetchone()
        cur.execute(BASELINE_SQL["products"], [ids])
        products = cur.fetchall()
        cur.execute(BASELINE_SQL["lock"], [ids])
        if any(on_hand - allocated < 1 for _, on_hand, allocated in cur.fetchall()):
            raise Short()
        cur.execute(BASELINE_SQL["allocate"], [ids])
        total = sum(p[3] for p in products)
        line1, line2, city, state, postal, country, name, phone = address
        cur.execute(
            BASELINE_SQL["order"],
            [customer_id, total, total, name, line1, line2, city, state, postal, country, phone or ""],
        )
        order_id = cur.fetchone()[0]
        number = f"SO-{order_id:06d}"
        cur.execute(BASELINE_SQL["number"], [number, order_id])
        cur.execute(
            BASELINE_SQL["lines"],
            [
                order_id,
                [p[0] for p in products],
                [p[1] for p in products],
                [p[2] for p in products],
                [p[3] for p in products],
                [1 for _ in products],
                [p[3] for p in products],
            ],
        )
        cur.execute(BASELINE_SQL["ledger"], [number, ids])
        cur.execute(BASELINE_SQL["event"], [order_id, f"{len(ids)} line(s), total {total} USD."])


def baseline_worker(url, product_ids, customer_ids, start_at, seconds, seed, queue):
    import psycopg
    from psycopg import errors as pg_errors

    conn = psycopg.connect(conninfo(url), autocommit=True)
    rng = random.Random(seed)
    done = short = errors = 0
    late = _wait(start_at)
    cpu = time.process_time()
    deadline = start_at + seconds
    while time.time() < deadline:
        ids = sorted(rng.sample(product_ids, 2))
        customer_id = rng.choice(customer_ids)
        for attempt in range(6):
            try:
                _baseline_order(conn, customer_id, ids)
                done += 1
            except Short:
                short += 1
            except (pg_errors.DeadlockDetected, pg_errors.SerializationFailure):
                if attempt < 5:
                    continue
                errors += 1
            except Exception as error:  # counted and reported
                errors += 1
                if errors <= 3:
                    print(f"baseline worker error: {error!r}", file=sys.stderr)
            break
    conn.close()
    queue.put((done, short, errors, late, time.process_time() - cpu))


def _database_cpu_seconds() -> float | None:
    """CPU time used so far by every PostgreSQL process on this machine (Linux /proc), or None
    where that cannot be read (another system, or no PostgreSQL process here: a remote database)."""
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return None
    total, found = 0, False
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # ended meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if name.startswith("postgres"):
            found = True
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks if found else None


def _sample_database_cpu(start_at: float, seconds: float, out: list) -> None:
    """Read `_database_cpu_seconds` half a second after the workers start and half a second
    before they stop (a connection's process, gone when its worker disconnects, takes its CPU
    time with it), then the fraction of the run between the two readings."""
    for moment in (start_at + 0.5, start_at + seconds - 0.5):
        delay = moment - time.time()
        if delay > 0:
            time.sleep(delay)
        out.append(_database_cpu_seconds())
    out.append((seconds - 1) / seconds)


def _run_workers(target, url, product_ids, customer_ids, seconds, start_delay=8.0) -> dict:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    start_at = time.time() + start_delay  # time for every process to import Django and load its rows
    procs = [
        ctx.Process(target=target, args=(url, product_ids, customer_ids, start_at, seconds, n, queue))
        for n in range(WORKERS)
    ]
    for p in procs:
        p.start()
    database_cpu = []
    sampler = threading.Thread(target=_sample_database_cpu, args=(start_at, seconds, database_cpu))
    sampler.start()
    outcomes = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    sampler.join()
    done = sum(o[0] for o in outcomes)
    per_order = 1000 / max(done, 1)  # ms of CPU an order
    return {
        "orders": done,
        "insufficient": sum(o[1] for o in outcomes),
        "errors": sum(o[2] for o in outcomes),
        # A worker still importing Django at the start would make the rate look lower.
        "latest_start_seconds": round(max(o[3] for o in outcomes), 3),
        "orders_per_second": done / seconds,
        # Where the 2 CPUs went: the workers' own (Python, driver) and PostgreSQL's, per order.
        "client_cpu_ms_per_order": round(sum(o[4] for o in outcomes) * per_order, 3),
        "database_cpu_ms_per_order": (
            round((database_cpu[1] - database_cpu[0]) / database_cpu[2] * per_order, 3)
            if None not in database_cpu
            else None
        ),
    }


def prepare(products: int) -> tuple[list[int], list[int]]:
    """The case's products (active, restocked to AVAILABLE units free, within the most a stock row
    may hold) and a pool of customers with a shipping address."""
    from catalog.models import Product, Stock
    from catalog.services import stock_receive
    from customers.models import Address
    from shop.core.validators import MAX_QUANTITY

    wanted = AVAILABLE["hot"] if products <= 5 else AVAILABLE["spread"]
    chosen = list(Product.objects.filter(is_active=True, currency="USD").order_by("pk")[:products])
    stocks = {s.product_id: s for s in Stock.objects.filter(product__in=chosen)}
    for product in chosen:
        stock = stocks.get(product.pk)
        on_hand, allocated = (stock.on_hand, stock.allocated) if stock else (0, 0)
        quantity = min(wanted - (on_hand - allocated), MAX_QUANTITY - on_hand)
        if quantity > 0:
            stock_receive(product=product, quantity=quantity, note="bench placement")
    customer_ids = list(
        Address.objects.filter(is_default_shipping=True)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)[:CUSTOMER_POOL]
    )
    return [p.pk for p in chosen], customer_ids


def measure(seconds: float = SECONDS) -> dict:
    from shop.backoffice.integrity import find_violations

    url = database_url()
    cases = {}
    for case, count in CASES.items():
        product_ids, customer_ids = prepare(count)
        ours = _run_workers(ours_worker, url, product_ids, customer_ids, seconds)
        base = _run_workers(baseline_worker, url, product_ids, customer_ids, seconds)
        cases[case] = {"products": count, "ours": ours, "baseline": base}
        print(
            f"  placement {case}: ours {ours['orders_per_second']:.1f}/s, "
            f"baseline {base['orders_per_second']:.1f}/s (last worker started "
            f"{ours['latest_start_seconds']:.2f} s / {base['latest_start_seconds']:.2f} s late)",
            flush=True,
        )
    started = time.perf_counter()
    violations = find_violations()
    return {
        "workers": WORKERS,
        "seconds": seconds,
        "cases": cases,
        "violations": violations,
        "integrity_check_seconds": time.perf_counter() - started,
    }


def print_placement(m: dict) -> None:
    def cpu(side, key):
        value = side.get(key)
        return "-" if value is None else f"{value:.2f}"

    print(
        f"{'case':<8} {'ours/s':>8} {'base/s':>8} {'ratio':>7} {'errors o/b':>11} {'short o/b':>10} "
        f"{'client CPU ms/order o/b':>24} {'database CPU ms/order o/b':>26}"
    )
    for case, c in m["cases"].items():
        o, b = c["ours"], c["baseline"]
        client = f"{cpu(o, 'client_cpu_ms_per_order')}/{cpu(b, 'client_cpu_ms_per_order')}"
        database = f"{cpu(o, 'database_cpu_ms_per_order')}/{cpu(b, 'database_cpu_ms_per_order')}"
        print(
            f"{case:<8} {o['orders_per_second']:>8.1f} {b['orders_per_second']:>8.1f} "
            f"{o['orders_per_second'] / b['orders_per_second']:>6.2f}x "
            f"{o['errors']:>5}/{b['errors']:<5} {o['insufficient']:>4}/{b['insufficient']:<5} "
            f"{client:>24} {database:>26}"
        )
    print(f"integrity violations (oversells etc.): {len(m['violations'])} {m['violations'][:5]}")


def run(options):
    """Runner entry point: on whatever the scratch database holds (seeded if it is empty)."""
    from bench.run import Result
    from orders.models import Order
    from shop.devtools.scale import seed_scale

    if not Order.objects.exists():
        seed_scale(customers=10_000, products=1_000, orders=1_000, check=False)
    m = measure()
    print_placement(m)
    results = []
    for case, c in m["cases"].items():
        o, b = c["ours"], c["baseline"]
        results.append(
            Result(
                scenario=f"placement {case} ({c['products']} products)",
                # Seconds per order, so that the ratio reads like the other rows (ours / baseline).
                ours_seconds=1 / o["orders_per_second"],
                baseline_seconds=1 / b["orders_per_second"],
                ours_queries=0,
                baseline="hand-written psycopg 3 transaction, same processes",
                note=f"{WORKERS} processes, {m['seconds']:.0f} s each side; seconds are per order",
                extra={
                    "ours orders/s": round(o["orders_per_second"], 1),
                    "baseline orders/s": round(b["orders_per_second"], 1),
                    "errors ours/baseline": f"{o['errors']}/{b['errors']}",
                    "client CPU ms/order ours/baseline": (
                        f"{o['client_cpu_ms_per_order']}/{b['client_cpu_ms_per_order']}"
                    ),
                    "database CPU ms/order ours/baseline": (
                        f"{o['database_cpu_ms_per_order']}/{b['database_cpu_ms_per_order']}"
                    ),
                    "violations": len(m["violations"]),
                },
            )
        )
    return results


def main() -> int:
    from bench.run import machine, setup_django, utc_stamp, write_results

    setup_django()
    load_before = os.getloadavg()
    m = measure()
    m["load_before"] = list(load_before)
    m["load_after"] = list(os.getloadavg())
    m["machine"] = machine()
    path = write_results(m, f"placement-{utc_stamp()}")
    print_placement(m)
    print(f"load {load_before[0]:.2f} -> {os.getloadavg()[0]:.2f}; written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
