"""The admin, crawled from its registry: every page a staff user can reach, as a list of URLs.

`crawl_pages()` walks `admin.site`'s registry and, for each model admin, lists:

- the list unfiltered, with each choice of each `list_filter` (up to FILTER_CHOICES per filter),
  with each level of its date drill-down (year, month, day of a row's date), and with a search
  for a realistic value of each search field (the value a row of the table holds: an email, an
  order number, a SKU, a tracking number, a surname) and for part of a word;
- one change page, the export page, and every page of its own URLs that takes an object (the
  staff operations, a packing slip...) for an object that can take the step;
- every staff operation's page for a selection (a posted list action);

and the dashboard for a superuser and for each role (`auth.Group`). A new model, filter, search
field or operation is crawled without anyone listing it. The rows are picked among the first
SAMPLE_ROWS by primary key, so the same rows are asked for at every size of the tables.

`bench.admin_pages` times the pages at each size and asks PostgreSQL's plan of every statement
(`plan_verdict`); `tests/test_bench_pages.py` counts their statements with few and many rows.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlencode

FILTER_CHOICES = 8  # choices crawled per list filter (a carrier filter lists every carrier)
SAMPLE_ROWS = 200  # rows (lowest primary keys) the subjects are picked from
SELECTION = 3  # rows a selection page is asked for
# A table the planner expects to hold more rows than this is big: reading all of it is a failure.
BIG_TABLE_ROWS = 100_000
_WORD = re.compile(r"[^\W\d_]{4,}")


@dataclass
class Page:
    name: str  # "orders.order ?status=paid": unique, the same at every size of the tables
    path: str  # under /admin/
    data: dict | None = None  # posted (a selection's action); None: a GET
    user: str = ""  # a role's name ("": the superuser)
    model: str = ""  # the model's label ("": the dashboard)

    @property
    def method(self) -> str:
        return "GET" if self.data is None else "POST"


def _search_path(name: str) -> str:
    return name.lstrip("^=@")


def _sample(queryset):
    return list(queryset.order_by("pk")[:SAMPLE_ROWS])


def _middle(values):
    return values[len(values) // 2] if values else None


def _search_value(model, path: str):
    """A value of `path` that a row among the first SAMPLE_ROWS holds (the middle one)."""
    queryset = model._default_manager.order_by("pk")
    first = list(queryset.values_list("pk", flat=True)[:SAMPLE_ROWS])
    values = [
        value
        for value in model._default_manager.filter(pk__in=first).order_by("pk").values_list(path, flat=True)
        if value not in (None, "")
    ]
    value = _middle(values)
    return None if value is None else str(value)


def _partial_word(value: str) -> str:
    words = _WORD.findall(value or "")
    return max(words, key=len)[:4].lower() if words else ""


def _filter_pages(model_admin, request, label, base) -> list[Page]:
    changelist = model_admin.get_changelist_instance(request)
    pages = []
    for spec in changelist.filter_specs:
        choices = [choice for choice in spec.choices(changelist) if not choice.get("selected")]
        for choice in choices[:FILTER_CHOICES]:
            # Named by what staff click ("created at: Past 7 days"): a date filter's query
            # string holds today's date.
            name = f"{label} ?{spec.title}={choice['display']}"
            pages.append(Page(name, base + choice["query_string"], model=label))
    return pages


def _date_pages(model_admin, row, label, base) -> list[Page]:
    field_name = model_admin.date_hierarchy
    if not field_name or row is None:
        return []
    value = row
    for part in field_name.split("__"):
        value = getattr(value, part, None)
    if value is None:
        return []
    from django.utils import timezone

    value = timezone.localtime(value) if timezone.is_aware(value) else value
    levels = [("year", value.year), ("month", value.month), ("day", value.day)]
    pages, params = [], {}
    for level, number in levels:
        params[f"{field_name}__{level}"] = number
        pages.append(Page(f"{label} by {level}", base + "?" + urlencode(params), model=label))
    return pages


def _search_pages(model_admin, request, label, base) -> list[Page]:
    model = model_admin.model
    pages, partial = [], ""
    for name in model_admin.get_search_fields(request):
        path = _search_path(name)
        value = _search_value(model, path)
        if value is None:
            continue
        pages.append(Page(f"{label} search {path}", base + "?" + urlencode({"q": value}), model=label))
        partial = partial or _partial_word(value)
    if partial:
        pages.append(
            Page(f"{label} search part of a word", base + "?" + urlencode({"q": partial}), model=label)
        )
    return pages


def _object_url_names(model_admin) -> list[tuple[str, str]]:
    """(URL name, path suffix) of the admin's own pages that take an object, not Django's own."""
    info = f"{model_admin.opts.app_label}_{model_admin.opts.model_name}"
    own = []
    for pattern in model_admin.get_urls():
        name = pattern.name or ""
        route = str(pattern.pattern)
        if not name.startswith(info + "_") or "<path:object_id>" not in route:
            continue
        suffix = name[len(info) + 1 :]
        if suffix in {"change", "delete", "history"}:
            continue
        own.append((suffix, route.replace("<path:object_id>/", "")))
    return own


def _ready_rows(operation, rows) -> list:
    return [row for row in rows if not operation.blocked_reason(row)]


def _object_pages(model_admin, rows, label, base) -> list[Page]:
    if not rows:
        return []
    row = _middle(rows)
    pages = [Page(f"{label} change page", f"{base}{row.pk}/change/", model=label)]
    operations = {op.name: op for op in getattr(model_admin, "operations", [])}
    for suffix, route in _object_url_names(model_admin):
        operation = operations.get(suffix)
        subject = row
        if operation is not None:
            ready = _ready_rows(operation, rows)
            if not ready or operation.on_object_page:
                continue  # nothing can take the step, or its form is on the change page
            subject = _middle(ready)
        pages.append(Page(f"{label} {suffix.replace('_', ' ')}", f"{base}{subject.pk}/{route}", model=label))
    for operation in operations.values():
        if not operation.action:
            continue
        ready = _ready_rows(operation, rows)[:SELECTION]
        if not ready:
            continue
        from django.contrib.admin import helpers

        data = {"action": operation.action, helpers.ACTION_CHECKBOX_NAME: [str(r.pk) for r in ready]}
        pages.append(Page(f"{label} {operation.action} (selection)", base, data=data, model=label))
    return pages


def model_pages(model_admin, request) -> list[Page]:
    """Every page of one model admin, for the superuser in `request`."""
    from django.urls import NoReverseMatch, reverse

    opts = model_admin.opts
    label = f"{opts.app_label}.{opts.model_name}"
    base = f"{opts.app_label}/{opts.model_name}/"
    queryset = model_admin.get_queryset(request)
    rows = _sample(queryset)
    pages = [Page(f"{label} list", base, model=label)]
    pages += _filter_pages(model_admin, request, label, base)
    pages += _date_pages(model_admin, _middle(rows), label, base)
    pages += _search_pages(model_admin, request, label, base)
    pages += _object_pages(model_admin, rows, label, base)
    try:
        reverse(f"admin:{opts.app_label}_{opts.model_name}_export")
    except NoReverseMatch:
        pass
    else:
        pages.append(Page(f"{label} export page", base + "export/", model=label))
    return pages


def crawl_pages(user, *, site=None) -> list[Page]:
    """Every page of the admin site for `user` (a superuser), then each role's dashboard."""
    from django.contrib import admin
    from django.contrib.auth.models import Group
    from django.test import RequestFactory

    site = site or admin.site
    pages = [Page("dashboard", "")]
    pages += [
        Page(f"dashboard ({name})", "", user=name)
        for name in Group.objects.order_by("name").values_list("name", flat=True)
    ]
    for model, model_admin in site._registry.items():
        request = RequestFactory().get(f"/admin/{model._meta.app_label}/{model._meta.model_name}/")
        request.user = user
        pages += model_pages(model_admin, request)
    return pages


def role_user(name: str):
    """A staff user in the role `name` (created the first time), for its dashboard."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    User = get_user_model()
    username = "crawl-" + re.sub(r"\W+", "-", name.lower())
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username, is_staff=True)
        user.groups.add(Group.objects.get(name=name))
    return user


def fetch(client, page: Page):
    if page.data is None:
        return client.get("/admin/" + page.path)
    return client.post("/admin/" + page.path, page.data)


# Plans


def _big_tables(cursor) -> dict[str, float]:
    cursor.execute(
        "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND reltuples > %s",
        [BIG_TABLE_ROWS],
    )
    return dict(cursor.fetchall())


_SCANS = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan", "Parallel Seq Scan"}
# Nodes that read all their input before returning a row, so a LIMIT above them bounds nothing
# below. (An incremental sort reads only up to the next value of its presorted key.)
_BLOCKING = {"Sort", "Aggregate", "Hash", "HashAggregate", "WindowAgg", "SetOp"}


def whole_table_reads(plan: dict, big: dict[str, float]) -> list[str]:
    """The big tables a plan reads whole: a sequential scan, or an index scan without a bound.

    A scan is bounded by its index condition, or by a LIMIT above it with nothing in between
    that must read all its input first (a sort, an aggregate, a hash), as long as a filter on the
    scan is not expected to discard a whole table's worth of rows before the LIMIT is full.
    """
    found = []

    def walk(node, limit):
        kind = node.get("Node Type", "")
        if kind == "Limit":
            limit = node.get("Plan Rows", 1)
        elif kind in _BLOCKING:
            limit = None
        relation = node.get("Relation Name")
        if kind in _SCANS and relation in big:
            indexed = any(key in node for key in ("Index Cond", "Recheck Cond"))
            if not indexed and not _bounded_by_limit(node, limit, big[relation]):
                found.append(f"{kind} on {relation} ({int(big[relation]):,} rows)")
        for child in node.get("Plans", []):
            walk(child, limit)

    walk(plan, None)
    return found


def _bounded_by_limit(node, limit, table_rows) -> bool:
    """A scan under a LIMIT stops once it has `limit` rows: with a filter, after reading about
    table rows x limit / rows the filter keeps (the planner's own estimates), which must stay
    below a whole big table's worth."""
    if limit is None:
        return False
    if "Filter" not in node:
        return True
    kept = max(node.get("Plan Rows", 1), 1)
    return table_rows * limit / kept < BIG_TABLE_ROWS


def plan_verdict(statements: list[str]) -> list[str]:
    """For a page's statements (as sent), what PostgreSQL's plans read whole ([] when nothing)."""
    import json

    from django.db import connection

    problems = []
    with connection.cursor() as cursor:
        big = _big_tables(cursor)
        for sql in statements:
            head = sql.lstrip().upper()
            if not head.startswith(("SELECT", "WITH")):
                continue
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
            if isinstance(plan, str):
                plan = json.loads(plan)
            for read in whole_table_reads(plan[0]["Plan"], big):
                problems.append(f"{read}: {sql[:160]}")
    return problems
