"""The indexes the admin's lists need, on PostgreSQL, derived from the admin registry.

`ensure_indexes` runs after every `migrate` (connected to `post_migrate` by the back office) and
creates what is missing, so a new admin, filter, ordering or search field gets its index without
anyone writing it:

- **list order**: the admin's `ordering` (its first columns of the model's own table), so the
  first page of a list is read from an index, newest first, and stops after a page;
- **filters and drill-down**: each `list_filter` field and the `date_hierarchy` field of the
  model's own table, followed by the list order, so a filtered list (and the drill-down's MIN and
  MAX within it) is an index range too;
- **search**: a trigram GIN index (`pg_trgm`) of `UPPER(column::text)` for every text field a
  search reaches, which is what Django's `icontains` compares (`UPPER(col::text) LIKE
  UPPER('%smi%')`), on whichever table the field lives.

On SQLite and MariaDB nothing is created (the lists stay correct and scan, as Django's do).
Names are `adm_<table>_<hash of the columns>`, so the same columns get the same index once.
"""

import hashlib

from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.models import CharField, TextField

from shop.core.admin_search import lookup_path

PREFIX = "adm_"


def _order_columns(model, ordering) -> list[str]:
    """The admin's ordering as index columns of the model's own table, up to the first that is
    not one (an expression, a related field)."""
    columns = []
    for entry in ordering or ():
        if not isinstance(entry, str) or entry == "?":
            break
        name = entry.lstrip("-")
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        try:
            field = model._meta.pk if name == "pk" else by_attname.get(name) or model._meta.get_field(name)
        except FieldDoesNotExist:
            break
        if not getattr(field, "concrete", False):
            break
        columns.append((field.column, entry.startswith("-")))
        if field.primary_key or field.unique:
            return columns
    # Django's list appends the primary key to an ordering that is not total (ChangeList's
    # deterministic ordering), descending.
    pk = model._meta.pk.column
    if pk not in {column for column, _ in columns}:
        columns.append((pk, True))
    return columns


def _filter_columns(model, list_filter) -> list[str]:
    columns = []
    for entry in list_filter or ():
        name = entry[0] if isinstance(entry, tuple | list) else entry
        if not isinstance(name, str):  # a SimpleListFilter class: its own queries
            continue
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if getattr(field, "concrete", False) and not field.many_to_many:
            columns.append(field.column)
    return columns


def list_indexes(site) -> list[tuple[str, list[tuple[str, bool]]]]:
    """(table, [(column, descending)]) of every list-order and filter index, in registry order."""
    wanted = []
    for model, model_admin in site._registry.items():
        table = model._meta.db_table
        order = _order_columns(model, model_admin.ordering or model._meta.ordering)
        leads = _filter_columns(model, model_admin.list_filter)
        date = model_admin.date_hierarchy
        if date and "__" not in date:
            leads.append(model._meta.get_field(date).column)
        shapes = [order] + [
            [(lead, False)] + [c for c in order if c[0] != lead] for lead in leads if lead != order[0][0]
        ]
        for columns in shapes:
            if columns and (table, columns) not in wanted:
                wanted.append((table, columns))
    return wanted


def searched_text_columns(site) -> list[tuple[str, str]]:
    """(table, column) of every text field a registered admin searches, in registry order."""
    columns = []
    for model, model_admin in site._registry.items():
        for name in model_admin.search_fields:
            try:
                _, field = lookup_path(model, name.lstrip("^=@"))
            except FieldDoesNotExist:  # a many-to-many path: joined by Django, not indexed here
                continue
            if isinstance(field, CharField | TextField) and field.concrete:
                column = (field.model._meta.db_table, field.column)
                if column not in columns:
                    columns.append(column)
    return columns


def index_name(table: str, key: str) -> str:
    digest = hashlib.sha1(f"{table}.{key}".encode()).hexdigest()[:10]
    return f"{PREFIX}{table[:40]}_{digest}"


def index_statements(site, qn) -> dict[str, tuple[str, list[str], str, list[str]]]:
    """{index name: (table, B-tree columns or [], the CREATE INDEX statement's rest, the
    columns it needs)}."""
    statements = {}
    for table, columns in list_indexes(site):
        key = ",".join(f"{column}{' DESC' if desc else ''}" for column, desc in columns)
        body = ", ".join(f"{qn(column)}{' DESC' if desc else ''}" for column, desc in columns)
        names = [c for c, _ in columns]
        statements[index_name(table, key)] = (table, names, f"ON {qn(table)} ({body})", names)
    for table, column in searched_text_columns(site):
        statements[index_name(table, f"trgm:{column}")] = (
            table,
            [],
            f"ON {qn(table)} USING gin ((UPPER({qn(column)}::text)) gin_trgm_ops)",
            [column],
        )
    return statements


def _existing_column_lists(cursor) -> dict[str, list[list[str]]]:
    """{table: [column list of each plain B-tree index]} of the public schema."""
    cursor.execute(
        "SELECT t.relname, ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n)"
        " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n)"
        " FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_class x ON x.oid = i.indexrelid"
        " JOIN pg_am am ON am.oid = x.relam"
        " WHERE am.amname = 'btree' AND i.indpred IS NULL AND i.indexprs IS NULL"
    )
    found = {}
    for table, columns in cursor.fetchall():
        found.setdefault(table, []).append(list(columns))
    return found


def _covered(indexes: list[list[str]], columns: list[str]) -> bool:
    """Whether an existing index starts with these columns (the direction aside: a B-tree is
    read both ways, and the lists here are all one direction after their first column)."""
    return any(index[: len(columns)] == columns for index in indexes)


def ensure_indexes(site, using: str = "default", verbosity: int = 0) -> list[str]:
    """Create the missing indexes (and the pg_trgm extension); the names created."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    qn = connection.ops.quote_name
    created = []
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", [PREFIX + "%"])
        existing = {row[0] for row in cursor.fetchall()}
        covered = _existing_column_lists(cursor)
        # A schema migrated back (`migrate app zero`) lacks some tables and columns: their
        # indexes wait for the next migrate forward.
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
        )
        present = set(cursor.fetchall())
        for name, (table, columns, definition, needs) in index_statements(site, qn).items():
            if name in existing or (columns and _covered(covered.get(table, []), columns)):
                continue
            if any((table, column) not in present for column in needs):
                continue
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {qn(name)} {definition}")
            created.append(name)
    if created and verbosity:
        print(f"  Admin list and search indexes created: {len(created)}")
    return created
