"""Admin changelists whose cost does not grow with the table.

Django's changelist counts every row twice (the filtered count and the full count); on a table
of millions that is most of the page's time. Here the full count is not shown, and on PostgreSQL
a list the planner expects to be large shows the planner's estimate instead of a full count: an
unfiltered list reads the table's statistics, a filtered one asks EXPLAIN. Lists expected to be
smaller are counted exactly, which is cheap for them.
"""

import json

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Below this many rows an exact count is cheap and an estimate would only look odd.
ESTIMATE_FROM_ROWS = 100_000


def estimated_rows(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of an unfiltered table's rows, or None where there is none."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    # -1: the table was never analyzed; no estimate yet.
    return int(row[0]) if row and row[0] >= 0 else None


def explained_rows(queryset: QuerySet) -> int | None:
    """PostgreSQL's planned row count for a filtered queryset (one EXPLAIN, nothing executed)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def is_unfiltered(queryset: QuerySet) -> bool:
    query = queryset.query
    return not query.where and not query.distinct and not query.combinator and not query.group_by


class EstimatedCountPaginator(Paginator):
    """Counts exactly, except an unfiltered list of a big PostgreSQL table: estimated there."""

    @cached_property
    def count(self):
        queryset = self.object_list
        if isinstance(queryset, QuerySet):
            estimate = estimated_rows(queryset) if is_unfiltered(queryset) else explained_rows(queryset)
            if estimate is not None and estimate >= ESTIMATE_FROM_ROWS:
                return estimate
        return super().count
