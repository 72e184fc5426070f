"""Every export of every admin list, with formula-looking text in every text field it reads:
each CSV cell and each XLSX cell comes out inert (shop.core.export_formats).

The admins, their resources and the model fields behind each column are found from the admin
site's registry, so an export or a column added later is covered without anyone adding it here.
"""

import csv
import io

import openpyxl
import pytest
from django.contrib import admin
from django.db import models

from shop.core.export_formats import FORMULA_START, formula_like
from tests.admin_support import export, paid_order
from tests.factories import ProductFactory

PAYLOADS = ['=HYPERLINK("http://x.example","y")', "+1+2", "-1+2", "@SUM(A1)", "\t=1+1", "\r=1+1", "=1+1"]


def exporting_admins():
    return [
        model_admin
        for model_admin in admin.site._registry.values()
        if getattr(model_admin, "export_resource_classes", None)
    ]


def text_fields_behind(resource_class) -> set[tuple[type[models.Model], str]]:
    """(model, field name) of every text column the resource reads, following relations."""
    found = set()
    resource = resource_class()
    for field in resource.get_export_fields():
        model = resource._meta.model
        path = (field.attribute or "").split("__")
        for step in path[:-1]:
            model = model._meta.get_field(step).related_model
        try:
            target = model._meta.get_field(path[-1])
        except Exception:  # a property such as full_name: its fields are the model's names
            target = None
        if target is None:
            found |= {(model, name) for name in ("first_name", "last_name") if hasattr(model, name)}
        elif target.is_relation:
            found |= {(target.related_model, "name")} if hasattr(target.related_model, "name") else set()
        elif isinstance(target, models.CharField | models.TextField) and not target.choices:
            found.add((model, target.name))
    return found


def fill_with_formulas(pairs):
    """Write a formula-looking value (kept unique with the row's id) into each of those fields."""
    written = []
    for model, name in sorted(pairs, key=lambda pair: (pair[0].__name__, pair[1])):
        field = model._meta.get_field(name)
        for index, pk in enumerate(model.objects.order_by("pk").values_list("pk", flat=True)):
            value = f"{PAYLOADS[index % len(PAYLOADS)]}{pk}"[: field.max_length or None]
            if name == "email":
                value = f"{PAYLOADS[index % len(PAYLOADS)]}{pk}@example.com"
            if field.name == "sku":  # SKUs are stored in capitals, without spaces (normalize_sku)
                value = "".join(value.split()).upper()
            model.objects.filter(pk=pk).update(**{name: value})
            written.append(value)
    return written


@pytest.fixture
def shop_with_formulas(db):
    for _ in range(3):
        paid_order(ProductFactory(stock=5))
    pairs = set().union(
        *(text_fields_behind(r) for ma in exporting_admins() for r in ma.export_resource_classes)
    )
    assert pairs, "the exports read text fields"
    return fill_with_formulas(pairs)


def test_the_exports_found_cover_orders_products_and_stock():
    labels = {ma.opts.label_lower for ma in exporting_admins()}
    assert {"orders.order", "catalog.product", "catalog.stock"} <= labels


@pytest.mark.parametrize("model_admin", exporting_admins(), ids=lambda ma: ma.opts.label_lower)
def test_every_csv_cell_is_inert(client, admin_user, shop_with_formulas, model_admin):
    client.force_login(admin_user)
    response = export(client, model_admin.model)
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    cells = [cell for row in rows[1:] for cell in row]
    assert len(rows) > 1
    assert not [cell for cell in cells if formula_like(cell)]
    neutralized = [cell for cell in cells if cell.startswith("'")]
    assert neutralized, "formula-looking values were exported"
    assert all(cell[1:].startswith(FORMULA_START) for cell in neutralized)


@pytest.mark.parametrize("model_admin", exporting_admins(), ids=lambda ma: ma.opts.label_lower)
def test_every_xlsx_cell_is_a_text_or_number_cell_with_the_value_as_it_is(
    client, admin_user, shop_with_formulas, model_admin
):
    client.force_login(admin_user)
    response = export(client, model_admin.model, file_format="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value is not None]
    assert cells
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    texts = {cell.value for cell in cells if cell.data_type == "s"}
    shown = {value for value in shop_with_formulas if value.replace("\r", "") in texts or value in texts}
    assert shown, "the formula-looking values are in the sheet, as they are"
    assert not [text for text in texts if text.startswith("'")]


def test_negative_numbers_stay_numbers():
    assert not formula_like("-3") and not formula_like("+2.50")
    assert formula_like("-1+2") and formula_like("=1") and formula_like("\t=1")
