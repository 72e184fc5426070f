"""Admin changelists whose cost does not grow with the table.

Django's changelist counts every row twice (the filtered count and the full count); on a table
of millions that is most of the page's time. Here the full count is not shown, and on PostgreSQL
a list the planner expects to be large shows the planner's estimate instead of a full count: an
unfiltered list reads the table's statistics, a filtered one asks EXPLAIN. Lists expected to be
smaller are counted exactly, which is cheap for them.
"""

import json
from datetime import datetime, timedelta

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Max, Min, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property

# Below this many rows an exact count is cheap and an estimate would only look odd.
ESTIMATE_FROM_ROWS = 100_000
# A filtered list the planner expects to hold more rows than this shows the estimate: counting
# it exactly would read most of a big table (a filter choice that matches most of the rows).
EXACT_COUNT_BELOW = 10_000
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
            # The count reads at most ESTIMATE_FROM_ROWS + 1 rows even if the statistics lag.
            "SELECT CASE WHEN reltuples >= %s THEN reltuples::bigint"
            f" ELSE (SELECT COUNT(*) FROM (SELECT 1 FROM {table} LIMIT %s) AS bounded) END"
            " FROM pg_class WHERE oid = %s::regclass",
            [ESTIMATE_FROM_ROWS, ESTIMATE_FROM_ROWS + 1, table],
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
                if estimate is not None and estimate >= min(EXACT_COUNT_BELOW, ESTIMATE_FROM_ROWS):
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
    if isinstance(queryset, IndexedDatesMixin):
        return queryset
    if cls not in _INDEXED_DATE_CLASSES:
        _INDEXED_DATE_CLASSES[cls] = type(f"IndexedDates{cls.__name__}", (IndexedDatesMixin, cls), {})
    clone = queryset._chain()
    clone.__class__ = _INDEXED_DATE_CLASSES[cls]
    return clone


DISTINCT_VALUES_SHOWN = 200  # a filter listing more values than this is no use as a list


class DistinctValuesFilter(admin.AllValuesFieldListFilter):
    """Django's every-value filter, its values read by skipping through an index.

    Django asks `SELECT DISTINCT col FROM table`, which reads every row. Here a recursive query
    asks for the smallest value, then the smallest above it, and so on: one index probe per
    distinct value (PostgreSQL has no skip scan of its own), on every backend. Only for a field of
    the list's own table, which is the only kind ScaleModelAdmin gives it.
    """

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        connection = connections[model_admin.get_queryset(request).db]
        qn = connection.ops.quote_name
        table, column = qn(model._meta.db_table), qn(field.column)
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH RECURSIVE seen (val) AS (SELECT MIN({column}) FROM {table} UNION ALL"
                f" SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > seen.val)"
                f" FROM seen WHERE seen.val IS NOT NULL)"
                f" SELECT val FROM seen WHERE val IS NOT NULL LIMIT {DISTINCT_VALUES_SHOWN}"
            )
            values = [field.to_python(row[0]) for row in cursor.fetchall()]
            if field.null:
                cursor.execute(f"SELECT 1 FROM {table} WHERE {column} IS NULL LIMIT 1")
                if cursor.fetchone():
                    values.append(None)
        self.lookup_choices = values


def _every_value_filter(model, entry) -> bool:
    """Whether Django would list `entry` (a list_filter item) with AllValuesFieldListFilter."""
    if not isinstance(entry, str) or "__" in entry:
        return False
    try:
        field = model._meta.get_field(entry)
    except FieldDoesNotExist:
        return False
    return (
        getattr(field, "concrete", False)
        and not field.is_relation
        and not field.choices
        and field.get_internal_type() not in {"BooleanField", "DateField", "DateTimeField"}
    )


class ShopChangeList(ChangeList):
    """Django's list, refusing an out-of-range drill-down year as it refuses a bad date.

    `?created_at__year=100000000000000000000` overflows `datetime()` with OverflowError, which
    Django does not catch (it catches ValueError): a 500 instead of its "?e=1" notice.
    """

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except OverflowError as error:
            raise IncorrectLookupParameters(error) from error


class ScaleModelAdmin(admin.ModelAdmin):
    """What every admin class of the shop's site gets by default (`ShopAdminSite.register` puts
    it just above Django's `ModelAdmin` in each class's bases): a list, filter, drill-down and
    search whose statements and plans do not grow with the table.

    - counts: no full count, and a planner estimate for big PostgreSQL lists
      (`EstimatedCountPaginator`); LIST_PER_PAGE rows a page;
    - the date drill-down's periods from MIN and MAX (`with_indexed_dates`);
    - searches through indexes (`shop.core.admin_search.indexed_search`);
    - every-value filters read through an index (`DistinctValuesFilter`), no facet counts;
    - on PostgreSQL, the list-order, filter and trigram indexes all this needs, created after
      `migrate` from the registry (`shop.core.admin_indexes`).

    A class that declares its own (a search of its own, a count it wants exact) keeps it.
    """

    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = LIST_PER_PAGE
    # Facet counts ("Show counts") count every filter choice over the whole list: each a read
    # of the whole table.
    show_facets = admin.ShowFacets.NEVER

    def get_changelist(self, request, **kwargs):
        return ShopChangeList

    def get_list_filter(self, request):
        return [
            (entry, DistinctValuesFilter) if _every_value_filter(self.model, entry) else entry
            for entry in super().get_list_filter(request)
        ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return with_indexed_dates(queryset) if self.date_hierarchy else queryset

    def get_search_results(self, request, queryset, search_term):
        from shop.core.admin_search import indexed_search

        return indexed_search(queryset, search_term, self.get_search_fields(request)), False


def with_scale_defaults(admin_class: type) -> type:
    """`admin_class` with `ScaleModelAdmin` just above `ModelAdmin` in its bases."""
    if issubclass(admin_class, ScaleModelAdmin):
        return admin_class
    return type(admin_class.__name__, (admin_class, ScaleModelAdmin), {"__module__": admin_class.__module__})
