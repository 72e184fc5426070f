"""Import and export of products and stock in the admin (django-import-export).

Exports: products and stock levels as CSV or Excel, with exactly their columns, for staff who may
view the list. Imports: products by SKU and stock counts, from CSV, for staff who may add
products; an upload is a preview that changes nothing, a file with any bad row imports nothing
and says which row and why, and a confirmed stock count is one `stock_adjust` per row by the
importing user, all in one transaction.
"""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Product, ProductType, Stock, StockMovement
from catalog.resources import StockCountImport
from tests.admin_support import (
    INVENTORY,
    MANAGER,
    SHIPPING,
    admin_url,
    csv_header,
    csv_rows,
    export,
    log_in,
    messages_of,
    place_order,
)
from tests.factories import ProductFactory, ProductTypeFactory, UserFactory

pytestmark = pytest.mark.django_db

PRODUCT_COLUMNS = [
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
]
STOCK_COLUMNS = ["sku", "name", "on_hand", "allocated", "available", "threshold"]


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    return settings.IMPORT_UPLOAD_DIR


def upload(client, model, text: str, name: str = "file.csv"):
    """Upload a CSV file to the model's import page: the preview (a dry run)."""
    file = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return client.post(admin_url(model, "import"), {"import_file": file})


def confirm(client, model, preview):
    """Confirm a previewed import, as the preview page's button does."""
    assert preview.status_code == 200
    confirm_form = preview.context.get("confirm_form")
    assert confirm_form is not None, "the preview has errors, so there is nothing to confirm"
    return client.post(admin_url(model, "process_import"), confirm_form.initial)


def row_errors(response) -> dict[int, dict[str, list[str]]]:
    """Row number -> column -> messages, from an import page's result."""
    return response.context["result"].errors()


def count_movements():
    return StockMovement.objects.filter(reason=StockMovement.Reason.COUNT)


# Export


def test_product_export_has_prices_and_stock_figures(client):
    log_in(client, INVENTORY)
    teapot = ProductFactory(
        name="Teapot",
        sku="TEA-1",
        product_type=ProductTypeFactory(name="Kitchen"),
        price=Decimal("24.50"),
        stock=10,
        stock__allocated=3,
        stock__threshold=4,
    )
    ProductFactory(name="Retired", sku="OLD-1", is_active=False)

    response = export(client, Product)

    rows = {row["sku"]: row for row in csv_rows(response)}
    assert csv_header(response) == PRODUCT_COLUMNS
    assert rows[teapot.sku] == {
        "name": "Teapot",
        "sku": "TEA-1",
        "type": "Kitchen",
        "price": "24.50",
        "currency": "USD",
        "active": "yes",
        "on_hand": "10",
        "allocated": "3",
        "available": "7",
        "threshold": "4",
    }
    assert rows["OLD-1"]["active"] == "no"


def test_stock_export_has_each_products_levels(client):
    log_in(client, INVENTORY)
    product = ProductFactory(name="Mug", sku="MUG-1", stock=8, stock__allocated=2, stock__threshold=5)

    response = export(client, Stock)

    assert csv_header(response) == STOCK_COLUMNS
    assert csv_rows(response) == [
        {
            "sku": product.sku,
            "name": "Mug",
            "on_hand": "8",
            "allocated": "2",
            "available": "6",
            "threshold": "5",
        }
    ]


@pytest.mark.parametrize("model", [Product, Stock])
def test_excel_export_of_products_and_stock_opens(client, model):
    log_in(client, INVENTORY)
    ProductFactory(sku="XL-1", stock=3)

    response = export(client, model, file_format="xlsx")

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header, row = list(sheet.iter_rows(values_only=True))
    assert list(header) == (PRODUCT_COLUMNS if model is Product else STOCK_COLUMNS)
    assert "XL-1" in row


# Who may import


def test_shipping_staff_cannot_import_products_by_posting_the_file_or_the_confirmation(client):
    log_in(client, SHIPPING)
    ProductTypeFactory(name="Kitchen")

    upload_response = upload(client, Product, "sku,name,type,price\nNEW-1,Kettle,Kitchen,30.00\n")
    confirm_response = client.post(
        admin_url(Product, "process_import"),
        {"upload": "0" * 32},
    )

    assert upload_response.status_code == 403
    assert confirm_response.status_code == 403
    assert not Product.objects.filter(sku="NEW-1").exists()


def test_staff_who_may_change_but_not_add_products_cannot_import_them(client):
    editor = UserFactory()
    editor.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="catalog", codename__in=["view_product", "change_product"]
        )
    )
    client.force_login(editor)

    assert client.get(admin_url(Product, "import")).status_code == 403
    assert client.get(admin_url(Product, "export")).status_code == 200


# Importing products


PRODUCT_CSV = """sku,name,type,price,currency,active,description
TEA-1,Teapot (large),Kitchen,29.00,usd,yes,Now larger
NEW-1,Kettle,Kitchen,45.50,,no,Whistles
"""


@pytest.fixture
def teapot():
    return ProductFactory(
        name="Teapot",
        sku="TEA-1",
        product_type=ProductTypeFactory(name="Kitchen"),
        price=Decimal("24.50"),
        description="Old text",
        stock=10,
    )


def test_product_import_preview_shows_new_and_updated_rows_and_changes_nothing(client, teapot):
    log_in(client, INVENTORY)

    preview = upload(client, Product, PRODUCT_CSV)

    assert preview.status_code == 200
    result = preview.context["result"]
    assert not result.has_errors
    assert [(row.action, row.label) for row in result.rows] == [
        ("update", "Teapot (large) (TEA-1)"),
        ("new", "Kettle (NEW-1)"),
    ]
    assert preview.context.get("confirm_form") is not None
    html = preview.content.decode()
    assert "Confirm import" in html and "Kettle" in html
    teapot.refresh_from_db()
    assert (teapot.name, teapot.price) == ("Teapot", Decimal("24.50"))
    assert not Product.objects.filter(sku="NEW-1").exists()


def test_confirmed_product_import_updates_by_sku_and_creates_new_products_with_their_stock_row(
    client, teapot
):
    log_in(client, INVENTORY)

    response = confirm(client, Product, upload(client, Product, PRODUCT_CSV))

    assert response.status_code == 302
    assert messages_of(response) == ["Import finished: 1 new, 1 updated, 0 deleted and 0 skipped products."]
    teapot.refresh_from_db()
    assert (teapot.name, teapot.price, teapot.currency, teapot.is_active, teapot.description) == (
        "Teapot (large)",
        Decimal("29.00"),
        "USD",
        True,
        "Now larger",
    )
    kettle = Product.objects.get(sku="NEW-1")
    assert (kettle.name, kettle.product_type.name, kettle.price, kettle.currency, kettle.is_active) == (
        "Kettle",
        "Kitchen",
        Decimal("45.50"),
        "USD",
        False,
    )
    assert Stock.objects.filter(pk=kettle.pk, on_hand=0, allocated=0).exists()
    assert Stock.objects.get(pk=teapot.pk).on_hand == 10


def test_product_import_changes_only_the_columns_in_the_file_and_skips_unchanged_rows(client, teapot):
    log_in(client, MANAGER)
    mug = ProductFactory(sku="MUG-1", price=Decimal("5.00"))

    preview = upload(client, Product, "sku,price\nTEA-1,26.00\nMUG-1,5.00\n")
    response = confirm(client, Product, preview)

    assert [row.action for row in preview.context["result"].rows] == ["update", "skip"]
    assert messages_of(response) == ["Import finished: 0 new, 1 updated, 0 deleted and 1 skipped products."]
    teapot.refresh_from_db()
    assert (teapot.name, teapot.price, teapot.description) == ("Teapot", Decimal("26.00"), "Old text")
    mug.refresh_from_db()
    assert mug.price == Decimal("5.00")


@pytest.mark.parametrize(
    ("bad_row", "column", "message"),
    [
        ("NEW-2,Mug,Kitchen,-1.00", "price", "The price cannot be negative."),
        ("NEW-2,Mug,Teapots,3.00", "type", "There is no product type named 'Teapots'."),
        ("NEW-2,Mug,Kitchen,three", "price", "Enter an amount such as 19.99"),
        ("NEW-2,Mug,Kitchen,3.333", "price", "Ensure that there are no more than 2 decimal places."),
        ("NEW-2,,Kitchen,3.00", "name", "This field cannot be blank."),
        ("NEW-2,Mug,,3.00", "type", "Enter the product's type"),
        ("NEW-2,Mug,Kitchen,", "price", "Enter the price"),
        ("NEW-2,Mug,Kitchen,100000000", "price", "An amount can be at most 99,999,999.99."),
        ("NEW-2,Mug,Kitchen,3.00,EUR", "currency", "Products are priced in USD"),
        ("NEW 2,Mug,Kitchen,3.00", "sku", "An SKU cannot contain spaces"),
        ("NEW-2,Mug,Kitchen,3.00,EURO", "currency", "Write a three-letter currency code"),
    ],
)
def test_a_product_file_with_one_bad_row_imports_nothing_and_names_the_row(
    client, teapot, bad_row, column, message
):
    log_in(client, INVENTORY)
    text = (
        "sku,name,type,price,currency\n"
        "TEA-1,Teapot (large),Kitchen,29.00,USD\n"
        "NEW-1,Kettle,Kitchen,45.50,USD\n"
        f"{bad_row}\n"
    )

    preview = upload(client, Product, text)

    assert preview.status_code == 200
    errors = row_errors(preview)
    assert list(errors) == [3]
    assert any(text.startswith(message) for text in errors[3][column]), errors
    assert preview.context.get("confirm_form") is None
    assert "Confirm import" not in preview.content.decode()
    teapot.refresh_from_db()
    assert teapot.name == "Teapot"
    assert not Product.objects.filter(sku__in=["NEW-1", "NEW-2"]).exists()


def test_a_sku_on_two_rows_of_a_product_file_is_an_error_on_both(client, teapot):
    log_in(client, INVENTORY)

    ProductFactory(sku="MUG-1", price=Decimal("5.00"))

    preview = upload(client, Product, "sku,price\nTEA-1,26.00\nMUG-1,6.00\nTEA-1,28.00\n")

    message = "'TEA-1' is on more than one row of the file (rows 1, 3)."
    assert row_errors(preview) == {1: {"sku": [message]}, 3: {"sku": [message]}}
    assert Product.objects.get(pk=teapot.pk).price == Decimal("24.50")


def test_a_product_file_with_a_bad_yes_no_value_imports_nothing(client, teapot):
    log_in(client, INVENTORY)

    preview = upload(client, Product, "sku,active\nTEA-1,maybe\n")

    assert row_errors(preview) == {1: {"active": ["Write yes or no, not 'maybe'."]}}
    assert Product.objects.get(pk=teapot.pk).is_active is True


# Importing a stock count


@pytest.fixture
def shelf():
    """Three products: 10 on hand (3 of them allocated to an open order), 5 on hand, 7 on hand."""
    cups = ProductFactory(name="Cups", sku="CUP-1", stock=10)
    place_order(cups, quantity=3)
    plates = ProductFactory(name="Plates", sku="PLT-1", stock=5)
    bowls = ProductFactory(name="Bowls", sku="BWL-1", stock=7)
    return cups, plates, bowls


def on_hand(*products) -> list[int]:
    return [Stock.objects.get(pk=product.pk).on_hand for product in products]


def test_stock_count_preview_shows_on_hand_count_and_change_and_changes_nothing(client, shelf):
    log_in(client, INVENTORY)

    preview = upload(client, Stock, "sku,counted,note\nCUP-1,12,Aisle 4\nPLT-1,2,\nBWL-1,7,\n")

    result = preview.context["result"]
    assert not result.has_errors
    assert result.headers == ["sku", "name", "on_hand", "allocated", "counted", "change", "note"]
    assert [row.action for row in result.rows] == ["update", "update", "skip"]
    assert [row.cells for row in result.rows] == [
        ["CUP-1", "Cups", 10, 3, "12", "+2", "Aisle 4"],
        ["PLT-1", "Plates", 5, 0, "2", "-3", ""],
        ["BWL-1", "Bowls", 7, 0, "7", "0", ""],
    ]
    html = preview.content.decode()
    assert "<td>Aisle 4</td>" in html and "<td>+2</td>" in html and "Confirm import" in html
    assert preview.context.get("confirm_form") is not None
    assert on_hand(*shelf) == [10, 5, 7]
    assert not count_movements().exists()


def test_confirmed_stock_count_adjusts_each_product_by_the_difference_as_the_importing_user(client, shelf):
    clerk = log_in(client, INVENTORY)
    cups, plates, _ = shelf

    response = confirm(
        client, Stock, upload(client, Stock, "sku,counted,note\nCUP-1,12,Aisle 4\nPLT-1,2,\nBWL-1,7,\n")
    )

    assert response.status_code == 302
    assert messages_of(response) == ["Import finished: 0 new, 2 updated, 0 deleted and 1 skipped stock."]
    assert on_hand(*shelf) == [12, 2, 7]
    movements = {m.product_id: m for m in count_movements()}
    assert set(movements) == {cups.pk, plates.pk}
    for product, delta, note in [(cups, 2, "Aisle 4"), (plates, -3, "")]:
        movement = movements[product.pk]
        assert (movement.kind, movement.reason, movement.on_hand_delta, movement.allocated_delta) == (
            StockMovement.Kind.ADJUSTMENT,
            StockMovement.Reason.COUNT,
            delta,
            0,
        )
        assert (movement.actor, movement.note) == (clerk, note)
    assert Stock.objects.get(pk=cups.pk).allocated == 3


def test_a_stock_count_below_what_is_allocated_imports_nothing_and_shows_the_services_message(client, shelf):
    log_in(client, INVENTORY)

    preview = upload(client, Stock, "sku,counted\nPLT-1,4\nCUP-1,2\nBWL-1,9\n")

    errors = row_errors(preview)
    assert list(errors) == [2]
    (message,) = errors[2]["counted"]
    assert "Cups (CUP-1)" in message and "3 allocated" in message
    assert preview.context.get("confirm_form") is None
    assert on_hand(*shelf) == [10, 5, 7]
    assert not count_movements().exists()


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("PLT-1,-1", "counted", "The count must be a whole number from 0 to 1,000,000, not -1."),
        ("PLT-1,2.5", "counted", "The count must be a whole number from 0 to 1,000,000, not '2.5'."),
        ("PLT-1,ten", "counted", "The count must be a whole number from 0 to 1,000,000, not 'ten'."),
        (
            "PLT-1,3000000000",
            "counted",
            "The count must be a whole number from 0 to 1,000,000, not 3,000,000,000.",
        ),
        ("PLT-1,", "counted", "Enter the number of units counted."),
        ("NOPE-9,4", "sku", "There is no product with the SKU 'NOPE-9'."),
        (",4", "sku", "The SKU is missing."),
        ("CUP-1,11", "sku", "'CUP-1' is on more than one row of the file (rows 1, 2)."),
    ],
)
def test_a_stock_count_row_that_is_not_a_count_is_an_error_and_nothing_is_imported(
    client, shelf, row, column, message
):
    log_in(client, INVENTORY)

    preview = upload(client, Stock, f"sku,counted\nCUP-1,12\n{row}\n")

    errors = row_errors(preview)
    assert errors[2] == {column: [message]}
    assert preview.context.get("confirm_form") is None
    assert on_hand(*shelf) == [10, 5, 7]
    assert not count_movements().exists()


def test_a_stock_count_that_fails_when_confirmed_rolls_back_every_adjustment(client, shelf):
    log_in(client, INVENTORY)
    *_, bowls = shelf
    preview = upload(client, Stock, "sku,counted\nCUP-1,12\nPLT-1,2\nBWL-1,4\n")
    # Between the preview and the confirmation an order takes 6 bowls: a count of 4 no longer fits.
    place_order(bowls, quantity=6)

    response = confirm(client, Stock, preview)

    assert response.status_code == 200
    assert messages_of(response)[0].startswith("Nothing was imported")
    errors = row_errors(response)
    assert list(errors) == [3]
    assert "Bowls (BWL-1)" in errors[3]["counted"][0]
    assert on_hand(*shelf) == [10, 5, 7]
    assert not count_movements().exists()


def test_a_stock_count_without_the_counted_column_is_refused_naming_it(client, shelf):
    log_in(client, INVENTORY)

    preview = upload(client, Stock, "sku,on_hand\nCUP-1,12\n")

    (message,) = messages_of(preview)
    assert message.startswith("The file has no 'counted' column.")
    assert preview.context.get("confirm_form") is None
    assert on_hand(*shelf) == [10, 5, 7]


def test_the_stock_count_import_rolls_back_a_file_with_a_bad_row_even_when_used_directly(shelf):
    clerk = UserFactory()
    importer = StockCountImport()

    result = importer.run(importer.read(b"sku,counted\nPLT-1,2\nCUP-1,1\n"), actor=clerk)

    assert list(result.errors()) == [2]
    assert on_hand(*shelf) == [10, 5, 7]
    assert not count_movements().exists()


def test_a_stock_count_counts_a_product_that_had_no_stock_row(client):
    clerk = log_in(client, MANAGER)
    product = Product.objects.create(
        name="Loose", sku="LOOSE-1", product_type=ProductType.objects.create(name="Misc"), price=1
    )

    confirm(client, Stock, upload(client, Stock, "sku,counted\nLOOSE-1,4\n"))

    assert on_hand(product) == [4]
    assert count_movements().get().actor == clerk


def test_a_stock_export_with_a_counted_column_added_is_a_count_file(client, shelf):
    log_in(client, INVENTORY)
    exported = export(client, Stock).content.decode()
    rows = list(csv.reader(io.StringIO(exported)))
    counts = {"CUP-1": "9", "PLT-1": "5", "BWL-1": "8"}
    text = "\n".join(",".join([*row, "counted" if n == 0 else counts[row[0]]]) for n, row in enumerate(rows))

    response = confirm(client, Stock, upload(client, Stock, text + "\n"))

    assert messages_of(response) == ["Import finished: 0 new, 2 updated, 0 deleted and 1 skipped stock."]
    assert on_hand(*shelf) == [9, 5, 8]
