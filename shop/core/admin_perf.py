"""Admin changelists whose cost does not grow with the table.

Django's changelist counts every row twice (the filtered count and the full count); on a table
of millions that is most of the page's time. Here the full count is not shown, and on PostgreSQL
a list the planner expects to be large shows the planner's estimate instead of a full count: an
unfiltered list reads the table's statistics, a filtered one asks EXPLAIN. Lists expected to be
smaller are counted exactly, which is cheap for them.
"""

import json
from datetime import datetime, timedelta

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Max, Min, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property

# Below this many rows an exact count is cheap and an estimate would only look odd.
ESTIMATE_FROM_ROWS = 100_000
# Rows a page of the busy lists (orders, products, customers) shows: a screen or two, as in
# most shop back offices, instead of Django's 100. Each row costs about half a millisecond to
# render (eight columns through the admin's cell machinery), so this halves a full page's time.
LIST_PER_PAGE = 50


def estimated_rows(queryset: QuerySet) -> int | None:
    """An unfiltered PostgreSQL table's rows: estimated when big, counted when small.

    One statement either way, so a list's query count does not change as the table grows:
    PostgreSQL runs the CASE's COUNT(*) subquery only when the estimate is below
    ESTIMATE_FROM_ROWS, or when the table was never analyzed (estimate -1). None elsewhere.
    """
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN reltuples >= %s THEN reltuples::bigint"
            f" ELSE (SELECT COUNT(*) FROM {table}) END"
            " FROM pg_class WHERE oid = %s::regclass",
            [ESTIMATE_FROM_ROWS, table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def explained_rows(queryset: QuerySet) -> int | None:
    """PostgreSQL's planned row count for a filtered queryset (one EXPLAIN, nothing executed)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # a condition that can match nothing (`none()`, `pk__in=[]`)
        return 0
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
            if is_unfiltered(queryset):
                rows = estimated_rows(queryset)  # exact below ESTIMATE_FROM_ROWS
                if rows is not None:
                    return rows
            else:
                estimate = explained_rows(queryset)
                if estimate is not None and estimate >= ESTIMATE_FROM_ROWS:
                    return estimate
        return super().count


class IndexedDatesMixin:
    """The date drill-down's periods from MIN and MAX of the field instead of DISTINCT.

    Django's date hierarchy asks for every distinct year (month, day) among the listed rows,
    which reads the whole table. MIN and MAX are two index reads; the periods between them are
    listed whether or not each has rows (an empty one simply shows an empty list).
    """

    def aggregate(self, *args, **kwargs):
        # Django's date_hierarchy tag asks this same queryset for MIN and MAX before asking for
        # the periods, which need them again: remembered, like a queryset's own result cache.
        key = (tuple(map(repr, args)), tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
        memo = self.__dict__.setdefault("_aggregate_memo", {})
        if key not in memo:
            memo[key] = super().aggregate(*args, **kwargs)
        return dict(memo[key])

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        bounds = self.aggregate(first=Min(field_name), last=Max(field_name))
        if bounds["first"] is None:
            return []
        zone = tzinfo or timezone.get_current_timezone()
        first = timezone.localtime(bounds["first"], zone)
        last = timezone.localtime(bounds["last"], zone)
        periods = []
        if kind == "year":
            periods = [datetime(y, 1, 1) for y in range(first.year, last.year + 1)]
        elif kind == "month":
            year, month = first.year, first.month
            while (year, month) <= (last.year, last.month):
                periods.append(datetime(year, month, 1))
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        elif kind == "day":
            day = first.date()
            while day <= last.date():
                periods.append(datetime(day.year, day.month, day.day))
                day += timedelta(days=1)
        else:
            return super().datetimes(field_name, kind, order=order, tzinfo=tzinfo)
        periods = [timezone.make_aware(p, zone) for p in periods]
        return periods if order == "ASC" else periods[::-1]


_INDEXED_DATE_CLASSES: dict[type, type] = {}


def with_indexed_dates(queryset: QuerySet) -> QuerySet:
    """The same queryset, with a date drill-down that reads indexes rather than the table."""
    cls = type(queryset)
    if cls not in _INDEXED_DATE_CLASSES:
        _INDEXED_DATE_CLASSES[cls] = type(f"IndexedDates{cls.__name__}", (IndexedDatesMixin, cls), {})
    clone = queryset._chain()
    clone.__class__ = _INDEXED_DATE_CLASSES[cls]
    return clone
