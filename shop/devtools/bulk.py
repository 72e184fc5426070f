"""Writing rows in bulk, table by table: the seed's writer (shop/devtools/scale.py).

Rows are tuples of column values, buffered per model and written in batches by one of three
methods: PostgreSQL's COPY (psycopg 3, in a background thread on the same connection), multi-row
`executemany` INSERTs, or the ORM's `bulk_create`. Nothing is read back: the caller assigns the
primary keys.
"""

import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from django.db import connection, models, reset_queries

METHODS = ("copy", "insert", "orm")


@contextmanager
def explicit_timestamps(models_: Iterable[type[models.Model]]):
    """Let `bulk_create` keep the timestamps we set: auto_now/auto_now_add would overwrite them."""
    saved = []
    for model in models_:
        for f in model._meta.concrete_fields:
            if isinstance(f, models.DateField) and (f.auto_now or f.auto_now_add):
                saved.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


class Table:
    """Rows waiting to be written to one model's table: tuples of `fields` (attnames) values."""

    def __init__(self, model: type[models.Model], fields: Sequence[str]):
        self.model = model
        self.fields = list(fields)
        self.rows: list[tuple] = []
        self.written = 0
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        self.model_fields = [by_attname[name] for name in self.fields]
        generated = [f.attname for f in self.model_fields if f.generated]
        if generated:
            raise ValueError(f"{model.__name__}: {generated} are computed by the database")
        # A column added to the model later must be filled here, unless the database can.
        unfilled = [
            f.attname
            for f in model._meta.concrete_fields
            if f.attname not in self.fields
            and not (f.generated or f.null or f.has_db_default() or f.primary_key)
        ]
        if unfilled:
            raise ValueError(
                f"{model.__name__}: the seed does not fill {unfilled}; see shop/devtools/scale.py"
            )
        qn = connection.ops.quote_name
        name = qn(model._meta.db_table)
        columns = ", ".join(qn(f.column) for f in self.model_fields)
        self.copy_sql = f"COPY {name} ({columns}) FROM STDIN"
        placeholders = ", ".join(["%s"] * len(self.model_fields))
        self.insert_sql = f"INSERT INTO {name} ({columns}) VALUES ({placeholders})"

    def add(self, row: tuple) -> None:
        self.rows.append(row)


class Writer:
    """Writes buffered rows, table by table in the order the tables were declared.

    `copy` streams each batch through PostgreSQL's COPY FROM STDIN, in a background thread on the
    same connection (and so the same transaction) while the next batch is being made: the server
    checks and indexes one batch while Python builds the next. `insert` sends multi-row INSERTs
    with the driver's `executemany`; `orm` uses `bulk_create(batch_size=...)`.
    """

    def __init__(self, method: str, batch_size: int):
        if method == "copy" and connection.vendor != "postgresql":
            raise ValueError("COPY is PostgreSQL only; use --method insert or orm here.")
        self.method = method
        self.batch_size = batch_size
        self.tables: list[Table] = []
        self.copies = 0  # COPY statements: they bypass Django's cursor, so count them here
        self.seconds = 0.0  # time the seed spent writing or waiting for a write
        self._background = None
        self._running = None
        if method == "copy":
            connection.ensure_connection()
            # The driver's connection itself: Django's `connection` is per thread.
            self._raw = connection.connection
            self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seed-copy")

    def table(self, model: type[models.Model], fields: Sequence[str]) -> Table:
        table = Table(model, fields)
        self.tables.append(table)
        return table

    def pending(self) -> int:
        return sum(len(t.rows) for t in self.tables)

    def flush(self) -> None:
        """Write what is buffered (COPY: start writing it, after the previous batch is done)."""
        start = time.perf_counter()
        batch = []
        for table in self.tables:
            if table.rows:
                batch.append((table, table.rows))
                table.written += len(table.rows)
                table.rows = []
        if self._background is not None:
            self._wait()
            if batch:
                self._running = self._background.submit(self._copy, batch)
        else:
            for table, rows in batch:
                getattr(self, f"_write_{self.method}")(table, rows)
            if connection.queries_logged:
                # With DEBUG on, Django keeps every statement's SQL (9000 of them, each as long
                # as its batch): gigabytes over a million orders.
                reset_queries()
        self.seconds += time.perf_counter() - start

    def wait(self) -> None:
        """Return once every row handed over is written; raise what writing it raised."""
        start = time.perf_counter()
        self._wait()
        self.seconds += time.perf_counter() - start

    def _wait(self) -> None:
        if self._running is not None:
            running, self._running = self._running, None
            running.result()

    def finish(self) -> None:
        """Write everything, and wait for it: before the seed queries the database again."""
        self.flush()
        self.wait()

    def close(self) -> None:
        """Stop the background writer, waiting for a COPY under way (even after an error)."""
        if self._background is not None:
            self._background.shutdown(wait=True)
            self._background = None

    def _copy(self, batch: list[tuple[Table, list[tuple]]]) -> None:
        for table, rows in batch:
            with self._raw.cursor() as cursor, cursor.copy(table.copy_sql) as copy:
                write_row = copy.write_row
                for row in rows:
                    write_row(row)
            self.copies += 1

    def _write_insert(self, table: Table, rows: list[tuple]) -> None:
        if connection.vendor != "postgresql":
            # SQLite and MySQLdb take naive UTC datetimes as strings, as Django would send them.
            adapt = connection.ops.adapt_datetimefield_value
            positions = [i for i, f in enumerate(table.model_fields) if isinstance(f, models.DateTimeField)]
            if positions:
                rows = [list(row) for row in rows]
                for row in rows:
                    for i in positions:
                        row[i] = adapt(row[i])
        with connection.cursor() as cursor:
            for start in range(0, len(rows), self.batch_size):
                cursor.executemany(table.insert_sql, rows[start : start + self.batch_size])

    def _write_orm(self, table: Table, rows: list[tuple]) -> None:
        model, fields = table.model, table.fields
        objects = [model(**dict(zip(fields, row, strict=True))) for row in rows]
        with explicit_timestamps([model]):
            model.objects.bulk_create(objects, batch_size=self.batch_size)
