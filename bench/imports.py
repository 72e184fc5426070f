"""Scenario imports: a stock count of 10,000 and 100,000 rows through the admin's import pages.

Ours: the upload (read, checked against the database, previewed: the dry run) and the
confirmation (checked again under row locks, written with `stock_adjust_many`), each one request
through Django's test client as an inventory user, with the page rendered, the way a browser
sends them. Baseline, in the same run: the same rows applied with the stock service directly,
one `stock_adjust(product=, delta=, reason="count")` per row (the products loaded before the clock
starts), which is what the import did per row before; with more rows than --import-baseline-rows
(10,000) it is measured on that many and scaled, a service call per row costing the same at any
size. Every row of every file changes its stock
(each file counts one more than on hand), so nothing is skipped. Peak memory is Python's
(tracemalloc) during a second upload and confirmation of the same size, run apart from the timed
ones because tracing slows them down; the process's peak resident size is printed too.
"""

import re
import resource
import time
import tracemalloc

from bench.run import Result, count_queries

PRODUCTS = 100_000


def _setup(total: int):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from catalog.models import Product, ProductType, Stock

    kind, _ = ProductType.objects.get_or_create(name="Bench count")
    have = Product.objects.filter(product_type=kind).count()
    Product.objects.bulk_create(
        [
            Product(name=f"Counted item {n}", sku=f"COUNT-{n:06d}", product_type=kind, price="1.00")
            for n in range(have, total)
        ],
        batch_size=5000,
    )
    products = list(Product.objects.filter(product_type=kind).order_by("pk"))
    Stock.objects.bulk_create(
        [Stock(product=p, on_hand=10) for p in products], batch_size=5000, ignore_conflicts=True
    )
    User = get_user_model()
    clerk = User.objects.filter(username="bench-inventory").first()
    if clerk is None:
        clerk = User.objects.create_user("bench-inventory", password="not-used-force-login", is_staff=True)
        clerk.groups.add(Group.objects.get(name="Inventory staff"))
    return products, clerk


def _count_file(products) -> bytes:
    from catalog.models import Stock

    on_hand = dict(Stock.objects.filter(pk__in=[p.pk for p in products]).values_list("pk", "on_hand"))
    lines = ["sku,counted,note"] + [f"{p.sku},{on_hand[p.pk] + 1},bench" for p in products]
    return ("\n".join(lines) + "\n").encode()


def _through_the_admin(client, data: bytes) -> tuple[float, float, int, int]:
    """(preview seconds, import seconds, preview statements, import statements)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    with count_queries() as preview_queries:
        started = time.perf_counter()
        preview = client.post(
            "/admin/catalog/stock/import/", {"import_file": SimpleUploadedFile("count.csv", data)}
        )
        preview_seconds = time.perf_counter() - started
    # The test client keeps no template context outside the test runner: read the page.
    found = re.search(r'name="upload" value="([0-9a-f]{32})"', preview.content.decode())
    if preview.status_code != 200 or found is None:
        raise SystemExit(f"bench imports: the preview failed ({preview.status_code})")
    with count_queries() as import_queries:
        started = time.perf_counter()
        done = client.post("/admin/catalog/stock/process_import/", {"upload": found[1]})
        import_seconds = time.perf_counter() - started
    if done.status_code != 302:
        raise SystemExit(f"bench imports: the import failed ({done.status_code})")
    return preview_seconds, import_seconds, len(preview_queries), len(import_queries)


def run(options) -> list[Result]:
    from django.test import Client, override_settings

    from catalog import services
    from catalog.models import StockMovement

    sizes = [int(size) for size in str(options.import_rows).split(",") if size.strip()]
    products, clerk = _setup(max([*sizes, PRODUCTS]))
    client = Client()
    client.force_login(clerk)
    results = []
    with override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"], IMPORT_MAX_ROWS=max(sizes)):
        for size in sizes:
            rows = products[:size]
            data = _count_file(rows)
            preview_s, import_s, preview_q, import_q = _through_the_admin(client, data)

            # One service call per row costs the same at any size: beyond --import-baseline-rows
            # the baseline is measured on that many of the rows and scaled to the file's size.
            sample = rows[: options.import_baseline_rows]
            with count_queries() as baseline_queries:
                started = time.perf_counter()
                for product in sample:
                    services.stock_adjust(
                        product=product, delta=1, reason=StockMovement.Reason.COUNT, actor=clerk, note="bench"
                    )
                baseline_s = (time.perf_counter() - started) * size / len(sample)
            baseline_statements = len(baseline_queries) * size // len(sample)

            tracemalloc.start()
            _through_the_admin(client, _count_file(rows))
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

            extra = {
                "rows": size,
                "file MB": round(len(data) / 1024 / 1024, 2),
                "preview rows/s": round(size / preview_s),
                "import rows/s": round(size / import_s),
                "services rows/s": round(size / baseline_s),
                "baseline measured on rows": len(sample),
                "peak Python MB (preview + import)": round(peak / 1024 / 1024, 1),
                "peak resident MB so far": round(rss_mb),
            }
            print(
                f"  [imports {size:,}] preview {preview_s:.2f} s ({size / preview_s:,.0f} rows/s), "
                f"import {import_s:.2f} s ({size / import_s:,.0f} rows/s), services directly "
                f"{baseline_s:.2f} s ({size / baseline_s:,.0f} rows/s), peak {peak / 1024 / 1024:.0f} MB",
                flush=True,
            )
            baseline = f"the same {size:,} rows, one stock_adjust per row" + (
                f" (measured on {len(sample):,} of them, scaled)" if len(sample) < size else ""
            )
            results.append(
                Result(
                    scenario=f"stock count {size:,} rows: preview (dry run)",
                    ours_seconds=preview_s,
                    baseline_seconds=baseline_s,
                    ours_queries=preview_q,
                    baseline_queries=baseline_statements,
                    baseline=baseline,
                    note="One upload request: read, checked, previewed, kept for the confirmation.",
                    extra=extra,
                )
            )
            results.append(
                Result(
                    scenario=f"stock count {size:,} rows: import (confirmed)",
                    ours_seconds=import_s,
                    baseline_seconds=baseline_s,
                    ours_queries=import_q,
                    baseline_queries=baseline_statements,
                    baseline=baseline,
                    note="One confirmation request: locked, checked again, written in bulk.",
                )
            )
    return results
