"""Bounds on every number that enters the catalog (shop.core.validators: MAX_QUANTITY,
MAX_AMOUNT), the product currency, and SKUs unique regardless of case.

Each hostile value typed into each numeric input of the stock and product pages is a form error
naming the range (never a 500), each service called directly with it raises the catalog's named
error, nothing changes, and the database's CHECK constraints refuse the rows the services would
refuse, so that on SQLite an overflowing integer can never be stored as a float.
"""

from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from catalog import services
from catalog.exceptions import (
    CurrencyNotAllowed,
    InvalidPrice,
    InvalidQuantity,
    InvalidSku,
    InvalidThreshold,
    QuantityOutOfRange,
    StockLimitExceeded,
)
from catalog.models import Product, Stock, StockMovement
from shop.backoffice.integrity import find_violations
from shop.core.validators import MAX_AMOUNT, MAX_QUANTITY, normalize_sku
from tests.admin_support import (
    INVENTORY,
    MANAGER,
    admin_url,
    confirm_action,
    form_data,
    log_in,
    page_errors,
    place_order,
    start_action,
    stock_of,
)
from tests.factories import ProductFactory, ProductTypeFactory

pytestmark = pytest.mark.django_db

# What the issue typed into every numeric input.
HOSTILE = [
    "99999999999999999999",  # 10^20
    "2147483647",
    "3000000000",
    "9223372036854775807",
    "1e9",
    "-1",
    "1e3",
    "12abc",
]
QUANTITY_RANGE = "must be a whole number from 1 to 1,000,000"
CHANGE_RANGE = "must be a whole number from -1,000,000 to 1,000,000"
THRESHOLD_RANGE = "must be a whole number from 0 to 1,000,000"
PRICE_RANGE = "must be an amount from 0.00 to 99,999,999.99"


def snapshot():
    """Everything the stock and product inputs could change."""
    return (
        list(Stock.objects.order_by("pk").values_list("pk", "on_hand", "allocated", "low_stock_threshold")),
        list(Product.objects.order_by("pk").values_list("pk", "sku", "price", "currency")),
        StockMovement.objects.count(),
    )


# Each numeric input of the catalog's pages: (name, url, field to type into, the range it names).
def operation_inputs(product):
    return [
        ("receive stock", admin_url(Product, "receive_stock", product.pk), "quantity", QUANTITY_RANGE),
        ("adjust stock", admin_url(Product, "adjust_stock", product.pk), "delta", CHANGE_RANGE),
        ("set threshold", admin_url(Product, "set_threshold", product.pk), "threshold", THRESHOLD_RANGE),
    ]


@pytest.mark.parametrize("typed", HOSTILE)
def test_every_stock_operation_page_refuses_the_value_naming_the_range(client, typed):
    log_in(client, MANAGER)
    product = ProductFactory(stock=5)
    before = snapshot()
    for name, url, field, expected in operation_inputs(product):
        if (field, typed) == ("delta", "-1"):
            continue  # taking one unit off is a fine adjustment
        data = {field: typed, "reason": "count", "note": ""}
        response = client.post(url, data)
        assert response.status_code == 200, name
        errors = response.context["form"].errors[field]
        assert any(expected in error for error in errors), (name, errors)
    assert snapshot() == before


@pytest.mark.parametrize(
    "action, field, expected",
    [
        ("receive_stock_selected", "quantity", QUANTITY_RANGE),
        ("adjust_stock_selected", "delta", CHANGE_RANGE),
        ("set_threshold_selected", "threshold", THRESHOLD_RANGE),
    ],
)
def test_every_stock_list_action_refuses_each_value_naming_the_range(client, action, field, expected):
    log_in(client, INVENTORY)
    products = [ProductFactory(stock=5), ProductFactory(stock=6)]
    before = snapshot()
    page = start_action(client, Product, action, products)
    assert page.status_code == 200
    for typed in HOSTILE:
        if (field, typed) == ("delta", "-1"):
            continue  # taking one unit off is a fine adjustment
        row = {field: typed, **({"reason": "count"} if field == "delta" else {})}
        response = confirm_action(client, page, rows={p.pk: row for p in products})
        assert response.status_code == 200, typed
        assert expected in response.content.decode(), typed
    assert snapshot() == before


@pytest.mark.parametrize("typed", HOSTILE)
def test_price_and_threshold_on_the_product_page_refuse_the_value_naming_the_range(admin_client, typed):
    product = ProductFactory(stock=7)
    url = admin_url(Product, "change", product.pk)
    before = snapshot()
    for field, expected in [("price", PRICE_RANGE), ("stock-0-low_stock_threshold", THRESHOLD_RANGE)]:
        data = form_data(admin_client.get(url))
        data[field] = typed
        response = admin_client.post(url, data)
        assert response.status_code == 200, field
        assert expected in page_errors(response), (field, page_errors(response))
    assert snapshot() == before


@pytest.mark.parametrize("typed", HOSTILE)
def test_price_on_the_add_page_refuses_the_value_naming_the_range(admin_client, typed):
    product_type = ProductTypeFactory()
    data = form_data(admin_client.get(admin_url(Product, "add")))
    data.update(name="Kettle", sku="KET-9", product_type=product_type.pk, price=typed, currency="USD")
    response = admin_client.post(admin_url(Product, "add"), data)
    assert response.status_code == 200
    assert PRICE_RANGE in page_errors(response)
    assert not Product.objects.filter(sku="KET-9").exists()


@pytest.mark.parametrize("typed", HOSTILE)
def test_threshold_on_the_stock_page_refuses_the_value_naming_the_range(admin_client, typed):
    product = ProductFactory(stock=7)
    url = admin_url(Stock, "change", product.pk)
    data = form_data(admin_client.get(url))
    data["low_stock_threshold"] = typed
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert THRESHOLD_RANGE in page_errors(response)
    assert Stock.objects.get(pk=product.pk).low_stock_threshold == 5


def test_the_inputs_tell_the_browser_their_range(client):
    log_in(client, MANAGER)
    product = ProductFactory(stock=5)
    for name, url, field, _ in operation_inputs(product):
        widget = client.get(url).context["form"][field]
        html = str(widget)
        assert f'max="{MAX_QUANTITY}"' in html, name
        assert 'type="number"' in html, name
    log_in(client, MANAGER)
    html = client.get(admin_url(Product, "change", product.pk)).content.decode()
    assert 'max="99999999.99"' in html  # the price
    assert f'max="{MAX_QUANTITY}"' in html  # the threshold


# The services, called directly.

HUGE = [10**20, 2147483647, 3_000_000_000, 9223372036854775807, MAX_QUANTITY + 1]
NOT_WHOLE = [1e9, "1e3", "12abc", Decimal("3"), 2.0, True, None]


@pytest.mark.parametrize("value", HUGE)
def test_receive_and_adjust_refuse_a_quantity_beyond_the_limit(value):
    product = ProductFactory(stock=5)
    before = snapshot()
    with pytest.raises(QuantityOutOfRange, match="from 1 to 1,000,000"):
        services.stock_receive(product=product, quantity=value)
    with pytest.raises(QuantityOutOfRange, match="from -1,000,000 to 1,000,000"):
        services.stock_adjust(product=product, delta=value, reason="count")
    with pytest.raises(QuantityOutOfRange, match="from -1,000,000 to 1,000,000"):
        services.stock_adjust(product=product, delta=-value, reason="count")
    assert snapshot() == before


@pytest.mark.parametrize("value", NOT_WHOLE)
def test_receive_and_adjust_refuse_what_is_not_a_whole_number(value):
    product = ProductFactory(stock=5)
    before = snapshot()
    with pytest.raises(InvalidQuantity):
        services.stock_receive(product=product, quantity=value)
    with pytest.raises(InvalidQuantity):
        services.stock_adjust(product=product, delta=value, reason="count")
    assert snapshot() == before


def received(quantity: int) -> Product:
    """A product whose stock came in through the service (so the ledger matches)."""
    product = ProductFactory()
    services.stock_receive(product=product, quantity=quantity)
    return product


def test_stock_on_hand_never_goes_beyond_the_limit():
    product = received(MAX_QUANTITY - 10)
    before = snapshot()
    with pytest.raises(StockLimitExceeded, match="at most 1,000,000"):
        services.stock_receive(product=product, quantity=11)
    with pytest.raises(StockLimitExceeded, match="at most 1,000,000"):
        services.stock_adjust(product=product, delta=11, reason="found")
    assert snapshot() == before
    services.stock_receive(product=product, quantity=10)  # exactly the limit is fine
    assert stock_of(product) == (MAX_QUANTITY, 0)
    assert find_violations() == []


@pytest.mark.parametrize("value", [*HUGE, -1, 1e9, "12", None])
def test_thresholds_are_bounded_in_every_service(value):
    product = ProductFactory(stock=5)
    before = snapshot()
    with pytest.raises(InvalidThreshold, match="from 0 to 1,000,000"):
        services.stock_set_threshold(product=product, threshold=value)
    with pytest.raises(InvalidThreshold, match="from 0 to 1,000,000"):
        services.product_create(
            name="Kettle",
            sku="KET-2",
            product_type=product.product_type,
            price="10",
            low_stock_threshold=value,
        )
    assert snapshot() == before


def test_set_threshold_changes_only_the_threshold():
    product = ProductFactory(stock=5)
    stock = services.stock_set_threshold(product=product, threshold=MAX_QUANTITY)
    assert (stock.on_hand, stock.allocated, stock.low_stock_threshold) == (5, 0, MAX_QUANTITY)
    assert not product.movements.exclude(kind="receipt").exists()


@pytest.mark.parametrize(
    "price",
    [
        Decimal("1e9"),
        10**20,
        "99999999999999999999",
        Decimal("100000000.00"),
        "1e3",
        "12abc",
        -1,
        1e9,
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("1.999"),
        Decimal("1E+40"),
    ],
)
def test_product_services_refuse_a_price_beyond_the_limit_or_not_an_amount(price):
    product = ProductFactory(stock=5)
    before = snapshot()
    with pytest.raises(InvalidPrice):
        services.product_create(name="Kettle", sku="KET-3", product_type=product.product_type, price=price)
    with pytest.raises(InvalidPrice):
        services.product_update(product=product, price=price)
    product.refresh_from_db()
    assert snapshot() == before


def test_the_highest_price_is_accepted():
    product = services.product_create(
        name="Yacht", sku="YACHT-1", product_type=ProductTypeFactory(), price="99999999.99"
    )
    product.refresh_from_db()
    assert product.price == MAX_AMOUNT


# The database refuses what the services refuse (every database; on SQLite an overflow that
# would be stored as a float is refused too).


def refused_by_database(callable_):
    with pytest.raises(IntegrityError), transaction.atomic():
        callable_()


@pytest.mark.parametrize(
    "values",
    [
        {"on_hand": MAX_QUANTITY + 1},
        {"low_stock_threshold": MAX_QUANTITY + 1},
        {"on_hand": 2147483647, "allocated": 0},
    ],
)
def test_stock_columns_are_checked_by_the_database(values):
    product = ProductFactory(stock=5)
    refused_by_database(lambda: Stock.objects.filter(pk=product.pk).update(**values))
    assert stock_of(product) == (5, 0)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's integer overflow to REAL")
def test_sqlite_never_stores_an_overflowing_sum_as_a_float():
    product = received(5)
    refused_by_database(
        lambda: Stock.objects.filter(pk=product.pk).update(on_hand=F("on_hand") + 9223372036854775807)
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT typeof(on_hand) FROM catalog_stock WHERE product_id = %s", [product.pk])
        assert cursor.fetchone() == ("integer",)
    assert find_violations() == []


@pytest.mark.parametrize("delta", [MAX_QUANTITY + 1, -(MAX_QUANTITY + 1)])
def test_movements_are_checked_by_the_database(delta):
    product = ProductFactory(stock=5)
    refused_by_database(
        lambda: StockMovement.objects.create(product=product, kind="adjustment", on_hand_delta=delta)
    )
    refused_by_database(
        lambda: StockMovement.objects.create(product=product, kind="allocation", allocated_delta=delta)
    )


def test_price_is_checked_by_the_database():
    product = ProductFactory(stock=5)
    refused_by_database(lambda: Product.objects.filter(pk=product.pk).update(price=Decimal("100000000.00")))


# Product currency: the store's only.


@pytest.mark.parametrize("currency", ["EUR", "zz", "usdx", "US D"])
def test_product_services_refuse_a_currency_other_than_the_stores(currency):
    product = ProductFactory(stock=5)
    before = snapshot()
    with pytest.raises(CurrencyNotAllowed, match="USD, the store's currency"):
        services.product_create(
            name="Kettle", sku="KET-4", product_type=product.product_type, price="10", currency=currency
        )
    with pytest.raises(CurrencyNotAllowed):
        services.product_update(product=product, currency=currency)
    product.refresh_from_db()
    assert snapshot() == before


def test_lower_case_store_currency_is_read_as_the_store_currency():
    product = services.product_create(
        name="Kettle", sku="KET-5", product_type=ProductTypeFactory(), price="10", currency="usd"
    )
    assert product.currency == "USD"


def test_model_validation_refuses_another_currency(settings):
    product = ProductFactory.build(product_type=ProductTypeFactory(), currency="EUR")
    with pytest.raises(ValidationError) as excinfo:
        product.full_clean()
    assert "the store's currency" in str(excinfo.value.message_dict["currency"])
    settings.SHOP_CURRENCY = "EUR"
    product.full_clean()  # the store's currency is a setting


@pytest.mark.parametrize("currency", ["EUR", "zz"])
def test_the_product_page_refuses_another_currency(admin_client, currency):
    product = ProductFactory(stock=5)
    url = admin_url(Product, "change", product.pk)
    data = form_data(admin_client.get(url))
    data["currency"] = currency
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "the store&#x27;s currency" in page_errors(response) or "the store's currency" in page_errors(
        response
    )
    product.refresh_from_db()
    assert product.currency == "USD"


def test_the_database_refuses_a_currency_that_is_not_a_code():
    product = ProductFactory(stock=5)
    refused_by_database(lambda: Product.objects.filter(pk=product.pk).update(currency="zz"))
    refused_by_database(lambda: Product.objects.filter(pk=product.pk).update(currency="usd"))


# SKUs: normalized on entry, unique regardless of case, without spaces.


def test_normalize_sku():
    assert normalize_sku("  el-hub-007 ") == "EL-HUB-007"
    assert normalize_sku(None) == ""


def test_product_create_normalizes_the_sku_and_refuses_one_that_differs_only_in_case():
    product_type = ProductTypeFactory()
    product = services.product_create(name="Hub", sku=" el-hub-007 ", product_type=product_type, price="10")
    assert product.sku == "EL-HUB-007"
    with pytest.raises(ValidationError) as excinfo:
        services.product_create(name="Hub 2", sku="El-Hub-007", product_type=product_type, price="10")
    assert "sku" in excinfo.value.message_dict
    assert Product.objects.filter(sku__iexact="el-hub-007").count() == 1


@pytest.mark.parametrize("sku", ["SP ACE", "TAB\tBED", "", "   ", "X" * 65])
def test_product_services_refuse_an_sku_with_spaces_or_none(sku):
    product = ProductFactory(stock=5)
    before = snapshot()
    with pytest.raises(InvalidSku):
        services.product_create(name="Kettle", sku=sku, product_type=product.product_type, price="10")
    with pytest.raises(InvalidSku):
        services.product_update(product=product, sku=sku)
    product.refresh_from_db()
    assert snapshot() == before


def test_the_product_page_normalizes_the_sku_and_refuses_spaces_and_case_twins(admin_client):
    ProductFactory(sku="XSS-1")
    product = ProductFactory(sku="MUG-1")
    url = admin_url(Product, "change", product.pk)

    data = form_data(admin_client.get(url))
    data["sku"] = "SP ACE"
    assert "cannot contain spaces" in page_errors(admin_client.post(url, data))

    data["sku"] = "xss-1"
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "SKU already exists" in page_errors(response)

    data["sku"] = " mug-2 "
    assert admin_client.post(url, data).status_code == 302
    product.refresh_from_db()
    assert product.sku == "MUG-2"


def test_the_database_keeps_skus_normalized_and_unique_regardless_of_case():
    ProductFactory(sku="XSS-1")
    product_type = ProductTypeFactory()
    # "new-1" has no twin: refused for its case alone (also on MariaDB, whose collation would
    # compare it equal to its capitals).
    for sku in ["xss-1", "Xss-1", "new-1", "SP ACE", "TAB\tX", "LINE\nX"]:
        refused_by_database(
            lambda sku=sku: Product.objects.create(name="X", sku=sku, product_type=product_type, price=1)
        )
    refused_by_database(
        lambda: Product.objects.create(name="X", sku="XSS-1", product_type=product_type, price=1)
    )
    assert Product.objects.filter(sku__iexact="xss-1").count() == 1


def test_orders_still_find_products_by_their_normalized_sku(customer):
    product = services.product_create(
        name="Hub", sku="el-hub-007", product_type=ProductTypeFactory(), price="10", initial_stock=4
    )
    order = place_order(product, customer=customer, quantity=2)
    assert list(order.lines.values_list("sku", flat=True)) == ["EL-HUB-007"]
    assert find_violations() == []


# Thresholds: inventory staff and store managers change them, logged.


@pytest.mark.parametrize("role", [INVENTORY, MANAGER])
def test_staff_set_a_threshold_on_the_product_and_stock_pages_and_it_is_logged(client, role):
    user = log_in(client, role)
    product = ProductFactory(stock=7)

    response = client.post(admin_url(Product, "set_threshold", product.pk), {"threshold": "12"})
    assert response.status_code == 302
    assert Stock.objects.get(pk=product.pk).low_stock_threshold == 12
    entry = LogEntry.objects.filter(user=user, object_id=str(product.pk)).latest("pk")
    assert "Set low-stock threshold" in entry.get_change_message()

    url = admin_url(Stock, "change", product.pk)
    data = form_data(client.get(url))
    data["low_stock_threshold"] = "3"
    assert client.post(url, data).status_code == 302
    assert stock_of(product) == (7, 0)
    assert Stock.objects.get(pk=product.pk).low_stock_threshold == 3
    assert LogEntry.objects.filter(user=user, object_id=str(product.pk)).count() == 2


def test_staff_set_thresholds_for_a_selection(client):
    log_in(client, INVENTORY)
    products = [ProductFactory(stock=5), ProductFactory(stock=9)]
    page = start_action(client, Product, "set_threshold_selected", products)
    response = confirm_action(
        client, page, rows={products[0].pk: {"threshold": "1"}, products[1].pk: {"threshold": "20"}}
    )
    assert response.status_code == 302
    assert list(Stock.objects.order_by("pk").values_list("low_stock_threshold", flat=True)) == [1, 20]
    assert LogEntry.objects.count() == 2


# Imports: the same bounds and the same SKU form, as a message on the row.


@pytest.fixture
def upload_dir(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    return settings.IMPORT_UPLOAD_DIR


def upload(client, model, text: str):
    file = SimpleUploadedFile("file.csv", text.encode(), content_type="text/csv")
    return client.post(admin_url(model, "import"), {"import_file": file})


@pytest.mark.parametrize("typed", ["99999999999999999999", "2147483647", "3000000000", "9223372036854775807"])
def test_a_stock_count_beyond_the_limit_is_refused_naming_it(client, upload_dir, typed):
    log_in(client, INVENTORY)
    product = received(5)
    before = snapshot()
    preview = upload(client, Stock, f"sku,counted\n{product.sku},{typed}\n")
    assert preview.status_code == 200
    errors = preview.context["result"].errors()
    assert "from 0 to 1,000,000" in " ".join(errors[1]["counted"])
    assert preview.context.get("confirm_form") is None
    assert snapshot() == before


@pytest.mark.parametrize("typed", ["99999999999999999999", "100000000", "1e9"])
def test_a_product_import_price_beyond_the_limit_is_refused_naming_it(client, upload_dir, typed):
    log_in(client, INVENTORY)
    product = ProductFactory(sku="MUG-1", stock=5)
    before = snapshot()
    preview = upload(client, Product, f"sku,price\n{product.sku},{typed}\n")
    assert preview.status_code == 200
    assert "99,999,999.99" in " ".join(preview.context["result"].errors()[1]["price"])
    assert preview.context.get("confirm_form") is None
    assert snapshot() == before


def test_a_stock_count_finds_the_product_by_its_sku_in_any_case(client, upload_dir):
    log_in(client, INVENTORY)
    product = received(5)
    product.sku = "EL-HUB-007"
    product.save(update_fields=["sku"])
    preview = upload(client, Stock, "sku,counted\n el-hub-007 ,7\n")
    assert preview.status_code == 200
    assert not preview.context["result"].errors()
    assert preview.context.get("confirm_form") is not None
