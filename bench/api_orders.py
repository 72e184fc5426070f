"""Scenario api_orders: orders per second placed through `POST /api/v1/orders` over HTTP.

Ours: gunicorn started as `make serve` starts it (`gunicorn shop.wsgi:application`, DEBUG=0, the
serve target's flags read from the Makefile: threaded workers that keep connections alive) on the
scratch database, and WORKERS client threads in this process, each with its own keep-alive
`http.client` connection, placing 2-line orders (1 each of two of 1,000 products, customers at random,
their default address) for SECONDS, each request with its own `Idempotency-Key` and an API key
created in the scratch database. The throttle is raised for the gunicorn process
(`API_THROTTLE_RATE`) so that it counts every request but stops none. Baseline: the same orders
from `order_place` called in-process by WORKERS spawned processes (`bench.placement.ours_worker`),
in the same run, on the same products. Afterwards `find_violations()` must find nothing.

Then the per-request overhead, in this process, one request at a time: each layer of the API timed
on its own (authentication with the throttle and last-used check, the throttle alone, the
idempotency record, the response's serialization), a whole `POST /orders` through Django's test
client against `order_place` alone, and a cheap GET over HTTP against the same GET in-process.

Standalone, on a database you seeded (it adds orders, stock and an API key):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shopscale python -m bench.api_orders
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from bench import placement
from bench.serving import free_port, serve_flags, stop

ROOT = Path(__file__).resolve().parent.parent
WORKERS = placement.WORKERS
SECONDS = placement.SECONDS
PRODUCTS = 1000
# High enough that the throttle counts every request of the run and refuses none.
THROTTLE_RATE = 10**9
OVERHEAD_REPEATS = 200
START_DELAY = 20.0
# Persistent database connections for the gunicorn workers, as the in-process workers have one
# connection each for the whole run. With make serve's default (CONN_MAX_AGE unset: 0) every
# request opens a new PostgreSQL connection, about 9 ms of connecting and a cold backend per
# request here; BENCH_API_CONN_MAX_AGE=0 measures that.
CONN_MAX_AGE = int(os.environ.get("BENCH_API_CONN_MAX_AGE", "60"))
# DEBUG is off, so SECURE_SSL_REDIRECT is on: as behind the TLS proxy of a deployment, the
# proxy's header says the request came in over HTTPS (gunicorn trusts it: --forwarded-allow-ips).
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


@contextmanager
def gunicorn(url: str, port: int, log_path: Path):
    """gunicorn as `make serve` runs it (its flags from the Makefile: threaded workers, the
    access log), on `port`, until the block ends (always stopped)."""
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": url,
        "API_THROTTLE_RATE": str(THROTTLE_RATE),
        "CONN_MAX_AGE": str(CONN_MAX_AGE),
    }
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "shop.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command + serve_flags(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        stop(process)


def wait_until_up(base: str, key: str, sku: str, process, timeout: float = 60.0) -> None:
    """Until gunicorn answers a product GET; then warm every worker up (first requests load the
    URL configuration and the API's schemas)."""
    import requests

    deadline = time.time() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            response = requests.get(
                f"{base}/api/v1/products/{sku}",
                headers={"Authorization": f"Bearer {key}", **PROXY_HEADERS},
                timeout=10,
            )
            if response.status_code == 200:
                break
            raise RuntimeError(f"gunicorn answered {response.status_code}: {response.text[:300]}")
        except (requests.ConnectionError, requests.Timeout):  # not listening, or workers booting
            if time.time() > deadline:
                raise RuntimeError("gunicorn did not start in time") from None
            time.sleep(0.2)
    threads = [threading.Thread(target=_get_many, args=(base, key, sku, 8)) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _get_many(base, key, sku, count):
    import requests

    with requests.Session() as session:
        session.headers.update({"Authorization": f"Bearer {key}", **PROXY_HEADERS})
        for _ in range(count):
            session.get(f"{base}/api/v1/products/{sku}", timeout=30)


def http_client(base, key, skus, customer_ids, start_at, seconds, seed, outcomes):
    """One client: a keep-alive HTTP/1.1 connection placing orders until the deadline, each
    request with a new Idempotency-Key. Anything but 201 is an error (a 409 insufficient_stock is
    counted apart). The standard library's http.client, not requests: the clients share the
    machine's two CPUs with the server, and what they spend is taken from it."""
    import http.client
    import random
    from urllib.parse import urlsplit

    address = urlsplit(base)
    rng = random.Random(seed)
    done = short = errors = 0
    first_errors = []
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", **PROXY_HEADERS}
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    late = placement._wait(start_at)
    deadline = start_at + seconds
    while time.time() < deadline:
        a, b = rng.sample(skus, 2)
        body = {
            "customer_id": rng.choice(customer_ids),
            "lines": [{"sku": a, "quantity": 1}, {"sku": b, "quantity": 1}],
        }
        try:
            connection.request(
                "POST",
                "/api/v1/orders",
                body=json.dumps(body),
                headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            )
            response = connection.getresponse()
            status, text = response.status, response.read().decode()
        except (OSError, http.client.HTTPException) as error:
            errors += 1
            first_errors.append(repr(error))
            connection.close()  # the next request opens a new connection
            continue
        if status == 201:
            done += 1
        elif status == 409 and "insufficient_stock" in text:
            short += 1
        else:
            errors += 1
            first_errors.append(f"{status} {text[:200]}")
    connection.close()
    outcomes.append((done, short, errors, late, first_errors[:3]))


def measure_http(url, key, skus, customer_ids, seconds) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = Path(tempfile.gettempdir()) / f"bench-api-gunicorn-{port}.log"
    with gunicorn(url, port, log_path) as process:
        wait_until_up(base, key, skus[0], process)
        outcomes = []
        start_at = time.time() + 1.0
        threads = [
            threading.Thread(
                target=http_client, args=(base, key, skus, customer_ids, start_at, seconds, n, outcomes)
            )
            for n in range(WORKERS)
        ]
        for t in threads:
            t.start()
        waits = sample_waits(url, start_at, seconds)
        for t in threads:
            t.join()
        overhead = measure_get_over_http(base, key, skus[0])
    for o in outcomes:
        for line in o[4]:
            print(f"  api client error: {line}", file=sys.stderr)
    done = sum(o[0] for o in outcomes)
    return {
        "orders": done,
        "insufficient": sum(o[1] for o in outcomes),
        "errors": sum(o[2] for o in outcomes),
        "latest_start_seconds": round(max(o[3] for o in outcomes), 3),
        "orders_per_second": done / seconds,
        "gunicorn_log": str(log_path),
        "get_over_http_seconds": overhead,
        "waits": waits,
    }


def sample_waits(url, start_at, seconds, every=0.25) -> list:
    """What the scratch database's server processes are doing during the run (sampled from
    pg_stat_activity): the most frequent (state, wait event, statement) seen."""
    from collections import Counter

    import psycopg

    seen = Counter()
    with psycopg.connect(placement.conninfo(url), autocommit=True) as conn:
        placement._wait(start_at)
        while time.time() < start_at + seconds:
            rows = conn.execute(
                "SELECT state, coalesce(wait_event_type || ':' || wait_event, 'cpu'), left(query, 50) "
                "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
            seen.update(f"{state} {wait} {query}" for state, wait, query in rows if state != "idle")
            time.sleep(every)
    return seen.most_common(8)


def measure_get_over_http(base, key, sku) -> float:
    """Median seconds of one `GET /products/{sku}` over HTTP, one client, nothing else running."""
    import requests

    with requests.Session() as session:
        session.headers.update({"Authorization": f"Bearer {key}", **PROXY_HEADERS})
        times = []
        for _ in range(OVERHEAD_REPEATS):
            started = time.perf_counter()
            response = session.get(f"{base}/api/v1/products/{sku}", timeout=30)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text[:300]
    return median(times)


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def per_call(function, repeats=OVERHEAD_REPEATS) -> float:
    """Median seconds of one call of `function` (after one warm-up call)."""
    function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return median(times)


def measure_layers(key: str, row, skus, customer_ids) -> dict:
    """Each layer of a `POST /orders` timed on its own, in this process, one call at a time."""
    import hashlib
    import itertools

    from django.db import transaction
    from django.test import Client
    from django.test.utils import override_settings
    from ninja.responses import NinjaJSONEncoder

    from catalog.models import Product
    from customers.models import Customer
    from orders.models import Order
    from orders.services import order_place
    from shop.api import keys, schemas
    from shop.api.models import IdempotencyRecord
    from shop.api.orders import order_out
    from shop.core.db import insert_rows

    class Request:
        headers = {"Authorization": f"Bearer {key}"}

    auth = keys.ApiKeyAuth(row.Scope.WRITE_ORDERS)
    counter = itertools.count()

    def idempotency():
        # As a placement writes it: the record with the response, nothing looked up first (a
        # transaction of its own here; in a placement the INSERT is the placing one's last).
        with transaction.atomic():
            key_ = f"bench-layer-{next(counter)}"
            insert_rows(
                [
                    IdempotencyRecord(
                        api_key=row,
                        key=key_,
                        request_hash=hashlib.sha256(b"x").hexdigest(),
                        response_status=201,
                        response_body="{}",
                    )
                ]
            )

    order = Order.objects.exclude(status="draft").order_by("-pk").first()
    # As the placement builds its response: from the order and the lines it wrote (read here
    # once, outside the timing).
    order.placed_lines = list(order.lines.order_by("pk"))

    def serialize():
        body = schemas.Order.model_validate(order_out(order, just_placed=True)).model_dump()
        json.dumps(body, cls=NinjaJSONEncoder)

    products = list(Product.objects.filter(sku__in=skus[:50]))
    customers = list(Customer.objects.filter(pk__in=customer_ids[:50]))
    pairs = itertools.cycle(zip(products, products[1:] + products[:1], itertools.cycle(customers)))

    def place_in_process():
        a, b, customer = next(pairs)
        order_place(customer=customer, lines=[(a, 1), (b, 1)])

    client = Client(HTTP_HOST="localhost", headers={"Authorization": f"Bearer {key}"})

    def place_through_client():
        a, b, customer = next(pairs)
        response = client.post(
            "/api/v1/orders",
            data=json.dumps(
                {
                    "customer_id": customer.pk,
                    "lines": [{"sku": a.sku, "quantity": 1}, {"sku": b.sku, "quantity": 1}],
                }
            ),
            content_type="application/json",
            headers={"Idempotency-Key": str(uuid.uuid4())},
            secure=True,
        )
        assert response.status_code == 201, response.content[:300]

    def get_through_client():
        response = client.get(f"/api/v1/products/{skus[0]}", secure=True)
        assert response.status_code == 200, response.content[:300]

    # As in gunicorn: DEBUG off (no statement log), the throttle counting but refusing nothing.
    with override_settings(DEBUG=False, API_THROTTLE_RATE=THROTTLE_RATE, ALLOWED_HOSTS=["localhost"]):
        return {
            "auth": per_call(lambda: auth.authenticate(Request(), key)),
            "throttle": per_call(lambda: keys.throttle(row)),
            "idempotency": per_call(idempotency),
            "serialization": per_call(serialize),
            "post_client": per_call(place_through_client, repeats=100),
            "order_place": per_call(place_in_process, repeats=100),
            "get_client": per_call(get_through_client),
        }


def run(options):
    """Runner entry point: on whatever the scratch database holds (seeded if it is empty)."""
    from bench.run import Result
    from catalog.models import Product
    from orders.models import Order
    from shop.api.keys import api_key_create
    from shop.api.models import ApiKey
    from shop.backoffice.integrity import find_violations
    from shop.devtools.scale import seed_scale

    if not Order.objects.exists():
        seed_scale(customers=10_000, products=1_000, orders=1_000, check=False)
    url = placement.database_url()
    product_ids, customer_ids = placement.prepare(PRODUCTS)
    skus = list(Product.objects.filter(pk__in=product_ids).order_by("pk").values_list("sku", flat=True))
    row, key = api_key_create(name=f"bench-{uuid.uuid4().hex[:8]}", scopes=ApiKey.Scope.values)

    # More time to start than placement's 8 s: on a machine shared with other work, 8 processes
    # importing Django on 2 cores arrived up to 5 s late, which would count against the baseline.
    base = placement._run_workers(
        placement.ours_worker, url, product_ids, customer_ids, SECONDS, start_delay=START_DELAY
    )
    ours = measure_http(url, key, skus, customer_ids, SECONDS)
    violations = find_violations()
    ratio = ours["orders_per_second"] / base["orders_per_second"]
    print(
        f"  api orders: HTTP {ours['orders_per_second']:.1f}/s ({ours['errors']} errors), in-process "
        f"{base['orders_per_second']:.1f}/s ({base['errors']} errors): {ratio:.2f}x; "
        f"violations {len(violations)} {violations[:3]}",
        flush=True,
    )
    layers = measure_layers(key, row, skus, customer_ids)
    note = f"{WORKERS} clients / {WORKERS} processes, {SECONDS:.0f} s each side; seconds are per order"
    results = [
        Result(
            scenario=f"api orders over HTTP ({PRODUCTS} products)",
            ours_seconds=1 / ours["orders_per_second"],
            baseline_seconds=1 / base["orders_per_second"],
            ours_queries=0,
            baseline="order_place in-process, same number of spawned processes (bench.placement)",
            note=note
            + f"; gunicorn {' '.join(serve_flags())}, API_THROTTLE_RATE={THROTTLE_RATE}"
            + f", CONN_MAX_AGE={CONN_MAX_AGE}",
            extra={
                "ours orders/s": round(ours["orders_per_second"], 1),
                "baseline orders/s": round(base["orders_per_second"], 1),
                "orders/s ratio": f"{ratio:.2f}",
                "errors ours/baseline": f"{ours['errors']}/{base['errors']}",
                "insufficient ours/baseline": f"{ours['insufficient']}/{base['insufficient']}",
                "late start ours/baseline": f"{ours['latest_start_seconds']}/{base['latest_start_seconds']}",
                "violations": len(violations),
                "gunicorn log": ours["gunicorn_log"],
                "database waits (samples)": ours["waits"],
            },
        ),
        Result(
            scenario="api POST /orders in-process (test client)",
            ours_seconds=layers["post_client"],
            baseline_seconds=layers["order_place"],
            ours_queries=0,
            baseline="order_place alone, same process, one at a time",
            note="median of 100; the difference is the API's whole per-request overhead",
            extra={"overhead ms": round((layers["post_client"] - layers["order_place"]) * 1000, 2)},
        ),
        Result(
            scenario="api GET /products/{sku} over HTTP",
            ours_seconds=ours["get_over_http_seconds"],
            baseline_seconds=layers["get_client"],
            ours_queries=0,
            baseline="the same GET through the test client in-process",
            note="median of 200, one client; the difference is HTTP and gunicorn",
            extra={"overhead ms": round((ours["get_over_http_seconds"] - layers["get_client"]) * 1000, 2)},
        ),
    ]
    for layer, what in [
        ("auth", "key lookup + hash compare + throttle + last-used check"),
        ("throttle", "cache add/incr"),
        ("idempotency", "its record INSERTed with the response (in a transaction of its own here)"),
        ("serialization", "order_out of the order and the lines placement wrote + schema + JSON"),
    ]:
        results.append(
            Result(
                scenario=f"api layer: {layer}",
                ours_seconds=layers[layer],
                baseline_seconds=None,
                ours_queries=0,
                baseline="none (absolute, median of 200 calls)",
                note=what,
            )
        )
    return results


def main() -> int:
    """Standalone, on DATABASE_URL as it is (it adds orders, stock and an API key):
    `DATABASE_URL=postgres://... python -m bench.api_orders`."""
    from dataclasses import asdict

    from bench.run import machine, print_table, setup_django, utc_stamp, write_results

    setup_django()
    load_before = os.getloadavg()
    info = machine()
    results = run(None)
    payload = {
        "machine": info,
        "load_before": list(load_before),
        "load_after": list(os.getloadavg()),
        "results": [{**asdict(r), "ratio": r.ratio} for r in results],
    }
    path = write_results(payload, f"api_orders-{utc_stamp()}")
    print_table(results)
    print(f"load {load_before[0]:.2f} -> {os.getloadavg()[0]:.2f}; written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
