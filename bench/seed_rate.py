"""Scenario seed_rate: rows per second of `seed_scale` against plain COPY of the same rows.

Ours: `seed_scale(...)` on empty tables, committed (so the deferred foreign-key checks count).
Baseline, measured in the same run: the rows it wrote are dumped with COPY TO (not timed), the
tables emptied, and the same rows loaded back with COPY FROM, one statement per table in one
transaction, against the same indexes and constraints. The difference is what making the rows in
Python and writing them in batches costs over the database's own floor.
"""

import datetime
import io
import time

from django.db import connection, transaction

from bench.run import Result, empty_shop_tables
from shop.devtools.scale import SEEDED_MODELS, seed_scale

NOW = datetime.datetime(2026, 11, 27, tzinfo=datetime.UTC)


def _columns(model) -> str:
    qn = connection.ops.quote_name
    return ", ".join(qn(f.column) for f in model._meta.concrete_fields if not f.generated)


def run(options) -> Result:
    empty_shop_tables()
    started = time.perf_counter()
    report = seed_scale(
        customers=options.customers,
        products=options.products,
        orders=options.orders,
        now=NOW,
        check=False,
    )
    ours = time.perf_counter() - started

    raw = connection.connection
    dumps = []
    for model in SEEDED_MODELS:
        table = connection.ops.quote_name(model._meta.db_table)
        buffer = io.BytesIO()
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({_columns(model)}) TO STDOUT") as copy:
            for chunk in copy:
                buffer.write(chunk)
        dumps.append((model, table, buffer.getvalue()))
    raw.commit()
    # Only the tables reloaded: the carriers seed_scale found or added stay, as its shipments
    # refer to them.
    empty_shop_tables(SEEDED_MODELS)

    started = time.perf_counter()
    with transaction.atomic():
        for model, table, data in dumps:
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({_columns(model)}) FROM STDIN") as copy:
                for start in range(0, len(data), 1 << 20):
                    copy.write(data[start : start + (1 << 20)])
    baseline = time.perf_counter() - started

    rows = report.rows
    return Result(
        scenario="seed_rate",
        ours_seconds=ours,
        baseline_seconds=baseline,
        ours_queries=report.statements,
        baseline_queries=len(dumps),
        baseline="COPY FROM of the same rows, one statement per table, one transaction",
        note=f"{options.orders:,} orders, {options.customers:,} customers, {options.products:,} products.",
        extra={
            "rows": rows,
            "ours rows/s": rows / ours,
            "baseline rows/s": rows / baseline,
            "ours phases (s)": {k: round(v, 2) for k, v in report.phases.items()},
        },
    )
