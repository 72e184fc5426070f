"""Products and stock, to and from CSV and Excel (django-import-export).

Exports read a whole list in a fixed number of queries (`select_related`). Imports
(shop.core.resources.CsvImport) check a whole file against the rows fetched in a few queries, then
write through the catalog services: new products through `product_create` (which gives them their
stock row), changed ones through `product_update`, stock counts through `stock_adjust_many` (the
bulk `stock_adjust`: it writes the ledger and refuses going below what is allocated).
"""

from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models.expressions import RawSQL
from import_export.fields import Field
from import_export.resources import ModelResource
from import_export.widgets import IntegerWidget

from catalog import services
from catalog.models import Product, ProductType, Stock, StockMovement
from shop.core.exceptions import ShopError
from shop.core.money import default_currency
from shop.core.resources import (
    CsvImport,
    CsvTable,
    ImportResult,
    ImportRow,
    MoneyWidget,
    RolledBack,
    YesNoWidget,
)
from shop.core.streaming_export import Reads
from shop.core.validators import MAX_QUANTITY, normalize_sku, parse_bounded_integer

NOTE_MAX_LENGTH = StockMovement._meta.get_field("note").max_length


class ProductResource(ModelResource):
    """Export: one row per product with its stock figures (blank for a product without a stock row)."""

    name = Field(attribute="name", column_name="name")
    sku = Field(attribute="sku", column_name="sku")
    type = Field(attribute="product_type__name", column_name="type")
    price = Field(attribute="price", column_name="price", widget=MoneyWidget())
    currency = Field(attribute="currency", column_name="currency")
    active = Field(attribute="is_active", column_name="active", widget=YesNoWidget())
    on_hand = Field(attribute="stock__on_hand", column_name="on_hand", widget=IntegerWidget())
    allocated = Field(attribute="stock__allocated", column_name="allocated", widget=IntegerWidget())
    available = Field(attribute="stock__available", column_name="available", widget=IntegerWidget())
    threshold = Field(attribute="stock__low_stock_threshold", column_name="threshold", widget=IntegerWidget())

    class Meta:
        model = Product
        name = "Products"
        fields = (
            "name",
            "sku",
            "type",
            "price",
            "currency",
            "active",
            "on_hand",
            "allocated",
            "available",
            "threshold",
        )

    #: The columns the streamed export cannot read by their attribute (shop.core.streaming_export).
    streamed_columns = {"available": Reads(("stock__on_hand", "stock__allocated"), Stock.available_of)}

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("product_type", "stock")


class ProductImport(CsvImport):
    """Products by SKU: creates new ones (`product_create`, with their stock row) and updates the
    others (`product_update`, only the columns the file has). Unchanged rows are skipped.

    Columns: sku (required), name, type (an existing product type's name: an unknown one is an
    error, never a new type), price, currency, active (yes/no), description. A column left out of
    the file leaves that field as it is; a new product needs sku, name, type and price.
    """

    title = "Products by SKU"
    help = (
        "One row per product, by SKU. A known SKU updates that product, only in the columns the "
        "file has (sku,price is a price list); a new SKU creates a product, which needs a name, "
        "a type and a price. type: an existing product type's name. price: like 19.99. currency: "
        "three letters (blank: the store's, or unchanged). active: yes or no (blank: unchanged). "
        "Rows that change nothing are skipped."
    )
    columns = ("sku", "name", "type", "price", "currency", "active", "description")
    required = ("sku",)
    noun_plural = "products"
    preview_headers = ("sku", "name", "type", "price", "currency", "active", "description", "changes")
    #: File column -> product field.
    FIELDS = {
        "name": "name",
        "type": "product_type",
        "price": "price",
        "currency": "currency",
        "active": "is_active",
        "description": "description",
    }

    def check(self, table: CsvTable, *, for_update: bool = False) -> ImportResult:
        present = [column for column in self.FIELDS if table.index(column) is not None]
        cells = {column: table.column(column) for column in ("sku", *present)}
        type_names = {self.text(cell) for cell in cells.get("type") or []}
        types = {t.name: t for t in ProductType.objects.filter(name__in=type_names - {""})}
        rows, parsed = [], []
        for number in range(1, len(table.rows) + 1):
            row = ImportRow(number, [])
            if number in table.overlong:
                row.error("__all__", self.overlong_message(table.overlong[number], len(table.headers)))
            sku = normalize_sku(self.text(cells["sku"][number - 1]))
            if not sku:
                row.error("sku", "The SKU is missing.")
            else:
                self._clean_field(row, "sku", "sku", sku)
            values = {}
            for column in present:
                value = self._read(row, column, cells[column][number - 1], types)
                if value is not _INVALID:
                    values[self.FIELDS[column]] = value
            rows.append(row)
            parsed.append((row, sku, values))
        for sku, numbers in self.duplicates((row.number, sku) for row, sku, _ in parsed).items():
            for number in numbers:
                rows[number - 1].error("sku", self.duplicate_message(sku, numbers))
        existing = _products_by_sku([sku for _, sku, _ in parsed if sku], for_update=for_update)
        for row, sku, values in parsed:
            product = existing.get(sku)
            if product is None:
                self._check_new(row, sku, values, present)
            else:
                self._check_update(row, product, values)
        return ImportResult(list(self.preview_headers), rows, noun_plural=self.noun_plural)

    def _read(self, row: ImportRow, column: str, cell: str, types: dict):
        """The cell's value for the product (None: leave as it is), or _INVALID with its error."""
        text = self.text(cell)
        if column == "type":
            if not text:
                row.error(column, "Enter the product's type: the name of an existing product type.")
                return _INVALID
            if text not in types:
                row.error(column, f"There is no product type named {text!r}.")
                return _INVALID
            return types[text]
        if column == "price":
            if not text:
                row.error(column, "Enter the price, such as 19.99.")
                return _INVALID
            try:
                price = MoneyWidget().clean(text)
            except ValueError as error:
                row.error(column, str(error))
                return _INVALID
            if price < 0:
                row.error(column, _constraint_message(Product, "product_price_not_negative"))
                return _INVALID
            return self._clean_field(row, column, "price", price)
        if column == "currency":
            code = text.upper()
            if not code:
                return None
            if len(code) != 3 or not code.isascii() or not code.isalpha():
                row.error(column, f"Write a three-letter currency code such as USD, not {text!r}.")
                return _INVALID
            return self._clean_field(row, column, "currency", code)
        if column == "active":
            try:
                return YesNoWidget().clean(text)
            except ValueError as error:
                row.error(column, str(error))
                return _INVALID
        return self._clean_field(row, column, self.FIELDS[column], text)

    @staticmethod
    def _clean_field(row: ImportRow, column: str, field_name: str, value):
        """The model field's own checks (length, places, bounds, SKU form, store currency)."""
        try:
            return Product._meta.get_field(field_name).clean(value, None)
        except ValidationError as error:
            for message in error.messages:
                row.error(column, message)
            return _INVALID

    def _check_new(self, row: ImportRow, sku: str, values: dict, present: list[str]) -> None:
        for column in ("name", "type", "price"):
            if column not in present:
                row.error(column, f"A new product needs a {column}: the file has no {column} column.")
        values.setdefault("currency", None)
        values.setdefault("is_active", True)
        row.action = ImportRow.NEW
        row.label = f"{values.get('name', '')} ({sku})"
        row.cells = self._cells(sku, values, "new product")
        row.target = (None, sku, values)

    def _check_update(self, row: ImportRow, product: Product, values: dict) -> None:
        changes = {
            name: value
            for name, value in values.items()
            if value is not None and value != getattr(product, name)
        }
        shown = {name: getattr(product, name) for name in self.FIELDS.values()}
        shown.update(changes)
        row.action = ImportRow.UPDATE if changes else ImportRow.SKIP
        row.label = f"{shown['name']} ({product.sku})"
        described = "; ".join(
            f"{_FIELD_LABELS[name]}: {_shown(getattr(product, name))} → {_shown(value)}"
            for name, value in changes.items()
        )
        row.cells = self._cells(product.sku, shown, described or "no change")
        row.target = (product, product.sku, changes)

    @staticmethod
    def _cells(sku: str, values: dict, changes: str) -> list:
        return [
            sku,
            values.get("name", ""),
            _shown(values.get("product_type")),
            _shown(values.get("price")),
            values.get("currency") or default_currency(),
            _shown(values.get("is_active", "")),
            values.get("description", ""),
            changes,
        ]

    def write(self, result: ImportResult, *, actor) -> None:
        for row in result.rows:
            if row.action not in (ImportRow.NEW, ImportRow.UPDATE):
                continue
            product, sku, values = row.target
            try:
                if product is None:
                    created = services.product_create(sku=sku, actor=actor, **values)
                    row.target = (created, sku, values)
                else:
                    services.product_update(product=product, actor=actor, **values)
            except ShopError as error:
                row.error("__all__", str(error))
            except ValidationError as error:
                for column, messages in error.message_dict.items():
                    for message in messages:
                        row.error(_COLUMNS.get(column, column), message)
            if row.errors:
                raise RolledBack(ImportResult(result.headers, result.rows, noun_plural=self.noun_plural))

    def log_entries(self, result: ImportResult):
        for row in result.rows:
            if row.action in (ImportRow.NEW, ImportRow.UPDATE):
                product, _, values = row.target
                changed = ", ".join(_FIELD_LABELS[name] for name in values if name in _FIELD_LABELS)
                yield product, row.label, row.action, f"Imported ({changed})."


_INVALID = object()
_FIELD_LABELS = {
    "name": "name",
    "product_type": "type",
    "price": "price",
    "currency": "currency",
    "is_active": "active",
    "description": "description",
}
_COLUMNS = {"product_type": "type", "is_active": "active"}


def _shown(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return ""
    text = str(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _constraint_message(model, name: str) -> str:
    return next(c.violation_error_message for c in model._meta.constraints if c.name == name)


def _query_batch() -> int:
    """How many values one `IN (...)` holds: as many as the database takes (SQLite 999; PostgreSQL
    and MariaDB 30,000, inside psycopg's 65,535 parameters), since each query scans the tables."""
    return min(connection.features.max_query_params or 30_000, 30_000) - 1


def _products_by_sku(skus: list[str], *, for_update: bool = False) -> dict[str, Product]:
    """The products with these SKUs (normalized), in a few queries, with their type."""
    unique = sorted(set(skus))
    found = {}
    batch = _query_batch()
    for start in range(0, len(unique), batch):
        products = Product.objects.filter(sku__in=unique[start : start + batch]).select_related(
            "product_type"
        )
        found.update((product.sku, product) for product in products)
    return found


class StockResource(ModelResource):
    """Export: the stock level of every product."""

    sku = Field(attribute="product__sku", column_name="sku")
    name = Field(attribute="product__name", column_name="name")
    on_hand = Field(attribute="on_hand", column_name="on_hand", widget=IntegerWidget())
    allocated = Field(attribute="allocated", column_name="allocated", widget=IntegerWidget())
    available = Field(attribute="available", column_name="available", widget=IntegerWidget())
    threshold = Field(attribute="low_stock_threshold", column_name="threshold", widget=IntegerWidget())

    class Meta:
        model = Stock
        name = "Stock levels"
        fields = ("sku", "name", "on_hand", "allocated", "available", "threshold")

    streamed_columns = {"available": Reads(("on_hand", "allocated"), Stock.available_of)}

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("product")


class StockCountImport(CsvImport):
    """A stock count. Columns: sku, counted (units on the shelf), note (optional).

    Each row with a change becomes an adjustment of counted minus on hand, reason "count", by the
    importing user, written with `stock_adjust_many` (the bulk `stock_adjust`: one ledger row per
    product, never below what is allocated); a row that changes nothing is skipped. When the
    import runs, the file's stock rows are locked first (in primary-key order, like every stock
    service), so the change is worked out from on-hand figures nobody can move until it commits.
    """

    title = "Stock count"
    help = (
        "One row per product counted: its SKU, the units on the shelf (a whole number from 0 to "
        f"{MAX_QUANTITY:,}) and, if you like, a note. Each row that differs from the books sets on "
        'hand to the count (a stock ledger row under your name, reason "count"); a row that '
        "matches is skipped. A count below what open orders hold is refused. An export of the "
        "stock list with a counted column added is a count file."
    )
    columns = ("sku", "counted", "note")
    required = ("sku", "counted")
    noun_plural = "stock"
    preview_headers = ("sku", "name", "on_hand", "allocated", "counted", "change", "note")

    def check(self, table: CsvTable, *, for_update: bool = False) -> ImportResult:
        skus = [normalize_sku(self.text(cell)) for cell in table.column("sku")]
        counts = table.column("counted")
        notes = table.column("note") or [""] * len(skus)
        width = len(table.headers)
        stock = _stock_by_sku(skus, for_update=for_update)
        # Under lock, the rows read are the rows written: stock_adjust_many need not lock them again.
        self.locked = {product.pk: row for product, row in stock.values()} if for_update else None
        duplicates = self.duplicates(enumerate(skus, 1))
        rows = []
        for number, (sku, count, note) in enumerate(zip(skus, counts, notes, strict=True), 1):
            count, note = count.strip(), self.text(note)
            row = ImportRow(number, [sku, "", "", "", count, "", note])
            rows.append(row)
            if number in table.overlong:
                row.error("__all__", self.overlong_message(table.overlong[number], width))
            found = stock.get(sku)
            if not sku:
                row.error("sku", "The SKU is missing.")
            elif sku in duplicates:
                row.error("sku", self.duplicate_message(sku, duplicates[sku]))
            elif found is None:
                row.error("sku", f"There is no product with the SKU {sku!r}.")
            if len(note) > NOTE_MAX_LENGTH:
                row.error("note", f"A note has at most {NOTE_MAX_LENGTH} characters.")
            counted = None
            if not count:
                row.error("counted", "Enter the number of units counted.")
            else:
                try:
                    counted = parse_bounded_integer(count, 0, MAX_QUANTITY, what="The count")
                except ValidationError as error:
                    row.error("counted", error.messages[0])
            if found is None:
                continue
            product, on_hand = found
            row.label = f"{product.name} ({product.sku})"
            row.cells[1:4] = [product.name, on_hand.on_hand, on_hand.allocated]
            if counted is None:
                continue
            change = counted - on_hand.on_hand
            row.cells[5] = f"{change:+d}" if change else "0"
            if change:
                refusal = services.stock_adjust_refusal(product=product, stock=on_hand, delta=change)
                if refusal:
                    row.error("counted", refusal)
            row.action = ImportRow.UPDATE if change else ImportRow.SKIP
            row.target = (product.pk, change, note)
        return ImportResult(list(self.preview_headers), rows, noun_plural=self.noun_plural)

    def write(self, result: ImportResult, *, actor) -> None:
        changed = [row.target for row in result.rows if row.action == ImportRow.UPDATE]
        services.stock_adjust_many(
            deltas={pk: change for pk, change, _ in changed},
            notes={pk: note for pk, _, note in changed if note},
            reason=StockMovement.Reason.COUNT,
            actor=actor,
            locked=self.locked,
        )

    def log_entries(self, result: ImportResult):
        # A count's record is its ledger rows (who, when, the change, the note), one per product
        # counted: not as many entries again in the admin's history (100,000 of them, for a file).
        return ()


def _stock_by_sku(skus: list[str], *, for_update: bool) -> dict[str, tuple[SimpleNamespace, Stock]]:
    """SKU -> (product's id, name and SKU; its stock row), for the products with these SKUs.

    Without `for_update` (the preview) the products are read with their stock; with it, the stock
    rows are then locked in primary-key order (`lock_stock_many`, which also creates the row of a
    product that has none) and read as locked.
    """
    unique = sorted(set(filter(None, skus)))
    products = {}
    for pk, sku, name, on_hand, allocated in _with_skus(unique).values_list(
        "pk", "sku", "name", "stock__on_hand", "stock__allocated"
    ):
        product = SimpleNamespace(pk=pk, sku=sku, name=name)
        products[sku] = (product, SimpleNamespace(on_hand=on_hand or 0, allocated=allocated or 0))
    if for_update:
        locked = services.lock_stock_many(product.pk for product, _ in products.values())
        products = {sku: (product, locked[product.pk]) for sku, (product, _) in products.items()}
    return products


def _with_skus(skus: list[str]):
    """The products with these SKUs, as one query on PostgreSQL (the SKUs sent as one array: an
    `IN` list of 100,000 parameters costs seconds to build and to send) and as an `IN` list per
    batch elsewhere (chained with UNION ALL would not be shorter)."""
    if connection.vendor == "postgresql":
        return Product.objects.filter(sku__in=RawSQL("SELECT unnest(%s::varchar[])", [skus]))
    batch = _query_batch()
    queries = [
        Product.objects.filter(sku__in=skus[start : start + batch]) for start in range(0, len(skus), batch)
    ]
    return _Chained(queries)


class _Chained:
    """values_list over several querysets, one after the other."""

    def __init__(self, querysets):
        self.querysets = querysets

    def values_list(self, *fields):
        for queryset in self.querysets:
            yield from queryset.values_list(*fields)
