"""Exports streamed in bounded memory, with the cells django-import-export would write.

An admin list's export (shop.core.admin_import_export) does not build the file from model
instances: it reads the rows the resource exports with one `values_list` over exactly its
columns, in chunks (`.iterator()`: a server-side cursor on PostgreSQL), renders each value with
the column's own widget (`render`, as `Field.export` does), makes each cell inert
(shop.core.export_formats) and writes CSV row by row to the response, or XLSX to a temporary
file with openpyxl's write-only workbook.

A resource column is read by its `attribute` when that is a path of fields through to-one
relations (`order__customer__email`). Any other column (a `dehydrate_<name>` method, a property
such as `customer__full_name`) is declared in the resource's `streamed_columns`, with the values
it needs and the function of them, so that it comes out as the instance export computes it:

    streamed_columns = {
        "customer_name": Reads(("customer__first_name", "customer__last_name"), Customer.name_of),
        "carrier": ReadsRelated("shipments", ("tracking_number", "carrier__name"), carriers,
                                order_by=("shipped_at", "pk")),
    }

A column that is neither is refused (ImproperlyConfigured) rather than exported wrong.

The loop is CPU-bound in Python, so the work that stays the same for a whole export is done
once: `renderer` gives, for the widgets and model fields it knows, a function of the value equal
to the widget's render (the language's number format, the time zone, the date format looked up
once; none at all for a text column, whose render is the text itself), and the widget's render
for any other. Memory: one chunk of rows (and of their related rows) at a time. On MariaDB and
MySQL `.iterator()` reads the whole result into the driver's memory (mysqlclient has no
server-side cursor by default), so there the rows are not bounded, only the instances avoided.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from itertools import islice
from operator import itemgetter

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import connections
from django.db.models import BooleanField, CharField, DateTimeField, DecimalField, IntegerField, TextField
from django.db.models.constants import LOOKUP_SEP
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.formats import get_format, sanitize_strftime_format
from import_export import widgets
from import_export.resources import Resource

from shop.core.export_formats import inert_csv_row, write_xlsx

#: Rows read per fetch from the cursor, and per query of a related column's rows.
CHUNK_SIZE = 2000
#: Bytes of CSV gathered before they are sent.
_SEND_SIZE = 64 * 1024


@dataclass(frozen=True)
class Reads:
    """A column worked out from values of the exported row: `compute(*values at paths)`.

    A path is a lookup from the resource's model (`customer__first_name`). When a value is None
    (a related row that is not there) the column's value is None, as import-export's reading of
    an attribute path gives. Without a dehydrate method the value is rendered by the column's
    widget, as the attribute would be."""

    paths: tuple[str, ...]
    compute: Callable


@dataclass(frozen=True)
class ReadsRelated:
    """A column worked out from the rows of a one-to-many relation (by its accessor name,
    `shipments`): `compute(rows)`, with a tuple of the values at `paths` per related row, in
    `order_by` order. The related rows are read with one query per chunk of exported rows."""

    relation: str
    paths: tuple[str, ...]
    compute: Callable
    order_by: tuple[str, ...] = ("pk",)


# What the export does instead of the instance export's hooks: a resource that changes them
# would export something else, so it is refused.
_HOOKS = ("export", "export_resource", "export_field", "before_export", "after_export", "iter_queryset")


class StreamedExport:
    """The rows of `queryset` as `resource` exports them (its columns `selected_fields`, or all),
    rendered for a text file (`native=False`) or for XLSX (`native=True`: import-export's
    force_native_type, numbers and dates as they are)."""

    def __init__(
        self, resource: Resource, queryset, *, selected_fields=None, native: bool, chunk_size=CHUNK_SIZE
    ):
        for hook in _HOOKS:
            if getattr(type(resource), hook) is not getattr(Resource, hook):
                raise ImproperlyConfigured(
                    f"{type(resource).__name__}.{hook} is not followed by the streamed export."
                )
        self.resource = resource
        self.model = resource._meta.model
        self.chunk_size = chunk_size
        self.native = native
        fields = resource.get_export_fields(selected_fields)
        self.headers = resource.get_export_headers(selected_fields=selected_fields)
        self.queryset = resource.filter_export(queryset).prefetch_related(None)
        self.paths = [self.model._meta.pk.attname]
        self.related: list[tuple] = []  # (relation, paths, order_by) of the ReadsRelated columns
        # Per column: the index of its value in a values_list row, and the function making the
        # cell of that value (None: the value is the cell); or, for a computed column, the
        # function making the cell of the whole row and the related rows.
        self.sources: list[int] = []
        self.converters: list[tuple[int, Callable]] = []
        self.computed: list[tuple[int, Callable]] = []
        for position, field in enumerate(fields):
            self._add_column(position, resource.get_field_name(field), field)

    def _index(self, path: str) -> int:
        if path not in self.paths:
            self.paths.append(path)
        return self.paths.index(path)

    def _add_column(self, position: int, name: str, field) -> None:
        declared = getattr(self.resource, "streamed_columns", {}).get(name)
        dehydrate = field.get_dehydrate_method(name)
        has_dehydrate = callable(dehydrate) or hasattr(self.resource, dehydrate)
        if declared is None and not has_dehydrate:
            model_field = self._checked(name, field.attribute)
            self.sources.append(self._index(field.attribute))
            convert = renderer(field.widget, self.native, model_field)
            if convert is not None:
                self.converters.append((position, convert))
            return
        if isinstance(declared, Reads):
            indexes = [self._index(path) for path in declared.paths if self._checked(name, path)]
            compute = declared.compute

            def value(row, related):
                values = [row[i] for i in indexes]
                return None if None in values else compute(*values)

        elif isinstance(declared, ReadsRelated):
            # Columns reading the same related rows share their query.
            source = (declared.relation, declared.paths, declared.order_by)
            if source not in self.related:
                self.related.append(source)
            number = self.related.index(source)
            compute = declared.compute

            def value(row, related):
                return compute(related[number].get(row[0], ()))

        else:
            raise ImproperlyConfigured(
                f"{type(self.resource).__name__}.{name} has a dehydrate method: declare the values it "
                "reads in streamed_columns (Reads or ReadsRelated)."
            )
        self.sources.append(0)
        if has_dehydrate:  # import-export writes what the method returns, without the widget
            self.computed.append((position, value))
        else:
            render, native = field.widget.render, self.native
            self.computed.append(
                (position, lambda row, related: render(value(row, related), force_native_type=native))
            )

    def _checked(self, name: str, path: str | None):
        """The model field at the end of `path`, when it reads one column through to-one
        relations only (one value per row)."""
        model, parts = self.model, (path or "").split(LOOKUP_SEP)
        for number, part in enumerate(parts, 1):
            try:
                field = model._meta.get_field(part)
            except FieldDoesNotExist:
                field = None
            last = number == len(parts)
            if field is None or (field.is_relation and (last or field.one_to_many or field.many_to_many)):
                raise ImproperlyConfigured(
                    f"{type(self.resource).__name__}.{name} reads {path!r}, which is not a column of "
                    f"{self.model.__name__} through to-one relations: declare it in streamed_columns."
                )
            if not last:
                model = field.related_model
        return field

    def rows(self) -> Iterator[list]:
        """Each exported row's cells, rendered, before they are made inert."""
        values = self.queryset.values_list(*self.paths).iterator(chunk_size=self.chunk_size)
        sources = self.sources
        pick = itemgetter(*sources) if len(sources) > 1 else lambda row: (row[sources[0]],)
        converters, computed = self.converters, self.computed
        while chunk := list(islice(values, self.chunk_size)):
            keys = [row[0] for row in chunk]
            related = [self._related_rows(*source, keys) for source in self.related]
            for row in chunk:
                cells = list(pick(row))
                for position, convert in converters:
                    cells[position] = convert(cells[position])
                for position, compute in computed:
                    cells[position] = compute(row, related)
                yield cells

    def _related_rows(self, relation_name: str, paths: tuple, order_by: tuple, keys: list) -> dict:
        """Parent key -> its related rows (tuples of the values at `paths`), in `order_by` order."""
        relation = next(r for r in self.model._meta.related_objects if r.get_accessor_name() == relation_name)
        link = relation.field.attname
        queryset = relation.related_model._default_manager.order_by(*order_by)
        connection = connections[self.queryset.db]
        if connection.vendor == "postgresql":
            # The keys as one array parameter: an IN list of thousands of parameters costs more
            # to build and to send than the query takes.
            parts = [queryset.filter(**{f"{link}__in": RawSQL("SELECT unnest(%s)", [keys])})]
        else:
            batch = connection.features.max_query_params or len(keys)
            parts = [
                queryset.filter(**{f"{link}__in": keys[start : start + batch]})
                for start in range(0, len(keys), batch)
            ]
        found: dict = {}
        for part in parts:
            for key, *values in part.values_list(link, *paths):
                found.setdefault(key, []).append(tuple(values))
        return found

    def csv_chunks(self, encoding: str = "utf-8") -> Iterator[bytes]:
        """The CSV file (as InertCSV writes it), a few tens of kilobytes at a time."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(self.headers)
        for row in self.rows():
            writer.writerow(inert_csv_row(row))
            if buffer.tell() >= _SEND_SIZE:
                yield buffer.getvalue().encode(encoding)
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode(encoding)

    def write_xlsx(self, file) -> None:
        """The XLSX file (as InertXLSX writes it) into `file`."""
        write_xlsx(file, self.headers, self.rows())


def renderer(widget, native: bool, model_field) -> Callable | None:
    """`widget.render(value, force_native_type=native)` for the values of `model_field`, as a
    function of the value (None: the value as it is). Where import-export's render works out
    per cell what stays the same for a whole export (the language's number format, the time
    zone, the date format), that is worked out here once; the cell is the same."""
    kind, field_kind = type(widget), type(model_field)
    if not widget.coerce_to_string:
        return partial(widget.render, force_native_type=native)
    if kind in (widgets.Widget, widgets.CharWidget) and issubclass(field_kind, (CharField, TextField)):
        if not model_field.null:
            return None  # force_str of a str is the str itself
        return lambda value: "" if value is None else value
    if kind in (widgets.IntegerWidget, widgets.DecimalWidget) and (
        issubclass(field_kind, (IntegerField, DecimalField)) and not issubclass(field_kind, BooleanField)
    ):
        if native:
            return None  # NumberWidget.render returns the number itself
        if _plain_numbers():
            if issubclass(field_kind, IntegerField):
                return lambda value: "" if value is None else str(value)
            if model_field.max_digits + model_field.decimal_places <= 200:
                # numberformat.format of a Decimal with a "." and no grouping: "{:f}" (below 200 digits)
                return lambda value: "" if value is None else format(value, "f")
    if kind is widgets.DateTimeWidget and settings.USE_TZ and issubclass(field_kind, DateTimeField):
        zone = timezone.get_current_timezone()
        if native:
            return lambda value: value.astimezone(zone).replace(tzinfo=None) if value else ""
        date_format = sanitize_strftime_format(widget.formats[0])
        return lambda value: value.astimezone(zone).strftime(date_format) if value else ""
    return partial(widget.render, force_native_type=native)


def _plain_numbers() -> bool:
    """Whether Django's number_format writes numbers as Python does: "." and no grouping."""
    grouping = settings.USE_THOUSAND_SEPARATOR and get_format("NUMBER_GROUPING") != 0
    return not grouping and get_format("DECIMAL_SEPARATOR") == "."
