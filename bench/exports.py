"""Scenario exports: every order exported through the admin, CSV and XLSX, against PostgreSQL's COPY.

Ours: one POST of the orders export form (every column, as a superuser) through Django's test
client, the response read chunk by chunk as a browser downloads it: the streamed export of
shop.core.streaming_export. Baseline, in the same run: `COPY (SELECT ...) TO STDOUT` of the same
columns (the shipments' tracking numbers and carriers aggregated per order, in the list's order)
read through psycopg's copy, which is as fast as the database can hand the rows over. The XLSX
export has no such baseline: its time and memory are reported as they are.

Memory: the serving process's peak while exporting, as Python's tracemalloc peak (in a second
export, since tracing slows it down) and as the growth of the resident size (VmHWM of
/proc/self/status, its high-water mark reset before the export, against VmRSS before it).

Then the same CSV export through gunicorn started as `make serve` starts it, over HTTP
(`bench.served_export`): whether it completes, its time and the worker's peak memory.

Inside `make bench` (`bench.run`) it runs on the orders admin_pages seeded (the largest BENCH_SCALE
size). Standalone, it measures whatever DATABASE_URL holds:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shopscale python -m bench.exports
"""

import time
import tracemalloc

from bench.run import Result, count_queries

CSV, XLSX = "0", "1"  # the export form's format choices (shop.core.admin_import_export)

COPY_ORDERS = """
COPY (
    SELECT o.number,
           to_char(o.created_at AT TIME ZONE %(zone)s, 'YYYY-MM-DD HH24:MI:SS'),
           trim(c.first_name || ' ' || c.last_name), c.email, o.status, o.currency,
           o.subtotal, o.shipping_cost, o.total,
           (SELECT string_agg(s.tracking_number, ', ' ORDER BY s.shipped_at, s.id)
              FROM orders_shipment s WHERE s.order_id = o.id AND s.tracking_number <> ''),
           (SELECT string_agg(name, ', ' ORDER BY first_shipped)
              FROM (SELECT ca.name, min(s.shipped_at) AS first_shipped
                      FROM orders_shipment s JOIN orders_carrier ca ON ca.code = s.carrier_id
                     WHERE s.order_id = o.id GROUP BY ca.name) carriers)
      FROM orders_order o JOIN customers_customer c ON c.id = o.customer_id
     ORDER BY o.created_at DESC, o.id DESC
) TO STDOUT WITH (FORMAT csv, HEADER)
"""


def _memory_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak_rss() -> None:
    # "5" resets the high-water mark of the resident size to the current size (Linux >= 4.0).
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def _export(client, file_format: str) -> tuple[float, int, int, int]:
    """(seconds, bytes, statements, resident MB grown) of one orders export through the admin."""
    from orders.resources import OrderResource

    data = {"format": file_format, "resource": "0"}
    data.update({f"orderresource_{name}": "on" for name in OrderResource.fields})
    _reset_peak_rss()
    rss_before = _memory_kb("VmRSS")
    with count_queries() as queries:
        started = time.perf_counter()
        response = client.post("/admin/orders/order/export/", data)
        if response.status_code != 200 or not response.streaming:
            raise SystemExit(f"bench exports: the export failed ({response.status_code})")
        size = sum(len(chunk) for chunk in response.streaming_content)
        seconds = time.perf_counter() - started
    return seconds, size, len(queries), (_memory_kb("VmHWM") - rss_before) // 1024


def _copy() -> tuple[float, int]:
    """(seconds, bytes) of COPY of the same columns, read through psycopg."""
    from django.conf import settings
    from django.db import connection

    sql = COPY_ORDERS.replace("%(zone)s", "'" + settings.TIME_ZONE.replace("'", "") + "'")
    size = 0
    with connection.cursor() as cursor:
        started = time.perf_counter()
        with cursor.cursor.copy(sql) as copy:
            for chunk in copy:
                size += len(chunk)
        return time.perf_counter() - started, size


def _traced_peak_mb(client, file_format: str) -> float:
    tracemalloc.start()
    try:
        _export(client, file_format)
        return tracemalloc.get_traced_memory()[1] / 1024 / 1024
    finally:
        tracemalloc.stop()


def run(options=None) -> list[Result]:
    from django.test import Client, override_settings

    from bench.admin_pages import superuser
    from orders.models import Order

    rows = Order.objects.count()
    client = Client()
    client.force_login(superuser())
    results = []
    with override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"]):
        copy_seconds, copy_bytes = _copy()
        for title, file_format in (("CSV", CSV), ("XLSX", XLSX)):
            seconds, size, queries, rss_mb = _export(client, file_format)
            traced_mb = _traced_peak_mb(client, file_format)
            extra = {
                "rows": rows,
                "file MB": round(size / 1024 / 1024, 1),
                "ours rows/s": round(rows / seconds),
                "peak Python MB (tracemalloc)": round(traced_mb, 1),
                "resident MB grown (VmHWM)": rss_mb,
            }
            if file_format == CSV:
                extra["COPY rows/s"] = round(rows / copy_seconds)
                extra["COPY file MB"] = round(copy_bytes / 1024 / 1024, 1)
                extra["rows/s ours / COPY"] = f"{copy_seconds / seconds:.2f}x"
            print(
                f"  [exports {title} {rows:,} orders] {seconds:.2f} s ({rows / seconds:,.0f} rows/s)"
                + (
                    f", COPY {copy_seconds:.2f} s ({rows / copy_seconds:,.0f} rows/s)"
                    if file_format == CSV
                    else ""
                )
                + f", peak {traced_mb:.0f} MB traced, {rss_mb} MB resident growth",
                flush=True,
            )
            results.append(
                Result(
                    scenario=f"orders export {title} @{rows:,}",
                    ours_seconds=seconds,
                    baseline_seconds=copy_seconds if file_format == CSV else None,
                    ours_queries=queries,
                    baseline_queries=1 if file_format == CSV else None,
                    baseline="COPY (SELECT the same columns) TO STDOUT, read with psycopg"
                    if file_format == CSV
                    else "none (COPY writes no XLSX): time and memory as they are",
                    note="One export request through the admin, read chunk by chunk. Goal: "
                    + ("at least 0.3x COPY's rows/s; " if file_format == CSV else "")
                    + "peak memory under 150 MB at 1,000,000 orders.",
                    extra=extra,
                )
            )
    results.append(_served())
    return results


def _served() -> Result:
    """The CSV export of every order through gunicorn as `make serve` runs it (bench.served_export)."""
    from django.db import connection

    from bench.served_export import measure

    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    served = measure(url)
    print(
        f"  [exports CSV through gunicorn, {served['orders']:,} orders] "
        f"{'complete' if served['complete'] else 'NOT COMPLETE'} in {served['seconds']:.1f} s, "
        f"worker peak {served['worker_peak_rss_mb']:.0f} MB",
        flush=True,
    )
    return Result(
        scenario=f"orders export CSV via make serve's gunicorn @{served['orders']:,}",
        ours_seconds=served["seconds"],
        baseline_seconds=None,
        ours_queries=0,
        note=f"gunicorn {served['flags']}; complete: {served['complete']} {served['error']}".rstrip(),
        extra={
            "rows/s": round(served["rows_per_second"]),
            "file MB": round(served["megabytes"], 1),
            "worker peak RSS MB": round(served["worker_peak_rss_mb"], 1),
            "worker killed": served["worker_killed"],
        },
    )


def main() -> int:
    from bench.run import print_table, setup_django

    setup_django()
    print_table(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
