"""Scenario demo_load: `manage.py loaddata demo` on empty tables.

Baseline, in the same run: `bulk_create` of the very objects the fixture holds (parsed before the
clock starts, so the baseline leaves out parsing the JSON), model by model in one transaction,
then the sequence reset loaddata also does. The fixture is small: this mostly measures the
per-object overhead of loaddata (one INSERT or UPDATE per object, signals, constraint checks).
"""

import time
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction

from bench.run import Result, count_queries, empty_shop_tables
from shop.devtools.scale import explicit_timestamps


def run(options) -> Result:
    empty_shop_tables()
    with count_queries() as ours_queries:
        started = time.perf_counter()
        call_command("loaddata", "demo", verbosity=0)
        ours = time.perf_counter() - started

    fixture = Path(settings.BASE_DIR) / "fixtures" / "demo.json"
    by_model = defaultdict(list)
    for deserialized in serializers.deserialize("json", fixture.read_text(encoding="utf-8")):
        by_model[type(deserialized.object)].append(deserialized.object)
    objects = sum(len(v) for v in by_model.values())
    empty_shop_tables()

    with count_queries() as baseline_queries:
        started = time.perf_counter()
        with transaction.atomic(), explicit_timestamps(by_model):
            for model, instances in by_model.items():
                model.objects.bulk_create(instances)
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), list(by_model)):
                    cursor.execute(sql)
        baseline = time.perf_counter() - started

    return Result(
        scenario="demo_load",
        ours_seconds=ours,
        baseline_seconds=baseline,
        ours_queries=len(ours_queries),
        baseline_queries=len(baseline_queries),
        baseline="bulk_create of the same objects (JSON parsed beforehand), one transaction",
        note=f"{objects:,} objects in the fixture.",
        extra={"objects": objects},
    )
