"""Bad input and faults leave the database exactly as it was."""

import io
import json
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError

from catalog.models import Product, Stock, StockMovement
from customers.models import Address, Customer
from orders.models import Carrier, Order, OrderEvent, OrderLine, Return, ReturnLine, Shipment, ShipmentLine
from orders.services import order_cancel, order_deliver, order_place, order_return, order_ship
from payments.models import Payment, PaymentMethod
from payments.services import payment_capture
from shop.backoffice.integrity import find_violations

STORE_APPS = ["customers", "catalog", "orders", "payments"]


def store_state():
    return {
        model.__name__: sorted(map(repr, model.objects.values_list()))
        for model in (
            Customer,
            Address,
            Product,
            Stock,
            StockMovement,
            Order,
            OrderLine,
            Carrier,
            Shipment,
            ShipmentLine,
            Return,
            ReturnLine,
            OrderEvent,
            Payment,
            PaymentMethod,
        )
    }


# --- broken fixtures ---------------------------------------------------------------------


def _demo_objects():
    out = io.StringIO()
    call_command("dumpdata", *STORE_APPS, stdout=out)
    return json.loads(out.getvalue())


def _write(tmp_path, name, content):
    path = tmp_path / f"{name}.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


@pytest.fixture
def demo(db):
    call_command("loaddata", "demo", verbosity=0)


def _customer(pk, email):
    return {
        "model": "customers.customer",
        "pk": pk,
        "fields": {
            "first_name": "Fix",
            "last_name": "Ture",
            "email": email,
            "phone": "",
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        },
    }


@pytest.mark.parametrize(
    "case, expected",
    [
        ("malformed", "Problem installing fixture"),
        ("dangling", "foreign key"),
        ("negative_stock", "stock_on_hand_not_negative"),
        ("duplicate_email", "email_key"),
    ],
)
def test_broken_fixture_is_refused_whole_and_names_the_problem(demo, tmp_path, case, expected):
    good = _customer(900, "new.person@example.com")
    stock = next(o for o in _demo_objects() if o["model"] == "catalog.stock")
    content = {
        "malformed": '[{"model": "customers.customer", "pk": 901, "fields": {',
        "dangling": [
            good,
            {
                "model": "customers.address",
                "pk": 900,
                "fields": {
                    "customer": 987654,
                    "line1": "1 Nowhere",
                    "line2": "",
                    "city": "X",
                    "state": "",
                    "postal_code": "1",
                    "country": "US",
                    "is_default_shipping": False,
                    "is_default_billing": False,
                    "created_at": "2026-01-01T00:00:00Z",
                    "updated_at": "2026-01-01T00:00:00Z",
                },
            },
        ],
        "negative_stock": [good, {**stock, "fields": {**stock["fields"], "on_hand": -1, "allocated": 0}}],
        "duplicate_email": [good, _customer(901, "JOHN.DOE@example.com")],
    }[case]
    before = store_state()
    with pytest.raises((CommandError, DatabaseError, Exception)) as excinfo:
        call_command("loaddata", _write(tmp_path, case, content), verbosity=0)
    message = f"{excinfo.value!r} {excinfo.value.__cause__!r}".lower()
    # PostgreSQL names the constraint, SQLite and MariaDB the column or key.
    alternatives = {
        "email_key": ("email_key", "customer_email_unique_ci"),
        # -1 on hand with 0 allocated breaks two checks; the database names the first it tries.
        "stock_on_hand_not_negative": ("stock_on_hand_not_negative", "stock_allocated_within_on_hand"),
    }.get(expected, (expected,))
    assert any(word.lower() in message for word in alternatives), message
    assert store_state() == before


# --- injected faults -----------------------------------------------------------------------


@pytest.fixture
def shop_setup(transactional_db):
    call_command("loaddata", "demo", verbosity=0)
    customer = Customer.objects.get(email="john.doe@example.com")
    product = Product.objects.filter(stock__on_hand__gte=5, is_active=True).order_by("pk").first()
    return customer, product


def _fail(*args, **kwargs):
    raise DatabaseError("injected fault")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "failing_write",
    [
        "orders.services.insert_rows",  # the lines, right after the order row
        "catalog.services.insert_rows",  # the ledger rows, after the stock UPDATE: the last write
    ],
)
def test_fault_in_order_place_leaves_nothing_behind(shop_setup, failing_write):
    customer, product = shop_setup
    before = store_state()
    with mock.patch(failing_write, _fail), pytest.raises(DatabaseError):
        order_place(customer=customer, lines=[(product, 2)])
    assert store_state() == before
    assert find_violations() == []


@pytest.mark.django_db(transaction=True)
def test_fault_in_order_ship_leaves_nothing_behind(shop_setup):
    customer, product = shop_setup
    order = order_place(customer=customer, lines=[(product, 2)])
    payment_capture(order=order)
    before = store_state()
    with mock.patch.object(Shipment.objects, "create", _fail), pytest.raises(DatabaseError):
        order_ship(order=order, carrier="UPS", tracking_number="1Z")
    assert store_state() == before
    assert find_violations() == []


@pytest.mark.django_db(transaction=True)
def test_fault_in_a_partial_shipment_leaves_nothing_behind(shop_setup):
    customer, product = shop_setup
    other = Product.objects.filter(stock__on_hand__gte=5, is_active=True).exclude(pk=product.pk).first()
    order = order_place(customer=customer, lines=[(product, 2), (other, 1)])
    payment_capture(order=order)
    first = order.lines.get(product=product)
    order_ship(order=order, carrier="UPS", tracking_number="1ZPART1", lines=[(first, 1)])
    before = store_state()
    # The stock and the shipment row are written before its lines fail.
    with mock.patch.object(ShipmentLine.objects, "bulk_create", _fail), pytest.raises(DatabaseError):
        order_ship(order=order, carrier="DHL", tracking_number="JD2", lines=[(first, 1)])
    assert store_state() == before
    assert find_violations() == []


@pytest.mark.django_db(transaction=True)
def test_fault_in_order_return_leaves_nothing_behind(shop_setup):
    customer, product = shop_setup
    order = order_place(customer=customer, lines=[(product, 2)])
    payment_capture(order=order)
    order_ship(order=order, carrier="UPS", tracking_number="1ZRET")
    order_deliver(order=order)
    before = store_state()
    # The units are back on hand and the return written before the refund fails.
    with mock.patch("payments.services.payment_refund", _fail), pytest.raises(DatabaseError):
        order_return(order=order, lines=[(order.lines.get(), 1)], reason="fault")
    assert store_state() == before
    assert find_violations() == []


@pytest.mark.django_db(transaction=True)
def test_fault_in_order_cancel_leaves_nothing_behind(shop_setup):
    customer, product = shop_setup
    order = order_place(customer=customer, lines=[(product, 2)])
    payment_capture(order=order)
    before = store_state()
    # The stock release and the status change are written before the refund fails.
    with mock.patch("payments.services.payment_refund", _fail), pytest.raises(DatabaseError):
        order_cancel(order=order, reason="fault")
    assert store_state() == before
    assert find_violations() == []


# --- dump and load ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_dumpdata_into_a_fresh_database_and_back_gives_identical_data(shop_setup, tmp_path):
    customer, product = shop_setup
    order = order_place(customer=customer, lines=[(product, 1)])
    payment_capture(order=order)
    order_ship(order=order, carrier="USPS", tracking_number="9400")
    order_deliver(order=order)
    order_return(order=order, lines=[(order.lines.get(), 1)], restock=False, reason="damaged")
    path = tmp_path / "store.json"
    call_command("dumpdata", *STORE_APPS, output=str(path), verbosity=0)
    before = store_state()
    call_command("flush", "--noinput", verbosity=0)
    assert not Order.objects.exists()
    call_command("loaddata", str(path), verbosity=0)
    assert store_state() == before
    assert find_violations() == []
