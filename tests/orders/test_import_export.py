"""Export of orders in the admin (django-import-export): CSV or Excel, with exactly the orders'
columns (never a payment detail), the list's filter applied, customer-typed text exported as
text and never as a spreadsheet formula."""

import io
from decimal import Decimal

import openpyxl
import pytest

from orders import services as order_services
from orders.models import Order
from tests.admin_support import (
    CUSTOMER_SERVICE,
    MANAGER,
    SHIPPING,
    admin_url,
    csv_header,
    csv_rows,
    export,
    log_in,
    paid_order,
    place_order,
    shop_customer,
)
from tests.factories import OrderFactory, PaymentMethodFactory, ProductFactory

pytestmark = pytest.mark.django_db

ORDER_COLUMNS = [
    "number",
    "placed_at",
    "customer_name",
    "email",
    "status",
    "currency",
    "subtotal",
    "shipping",
    "total",
    "tracking_number",
    "carrier",
]


def test_order_export_has_the_orders_columns_amounts_and_shipment_and_no_payment_details(client):
    log_in(client, CUSTOMER_SERVICE)
    customer = shop_customer(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    card = PaymentMethodFactory(customer=customer, last4="4242", gateway_token="tok_secret_4242")
    product = ProductFactory(price=Decimal("19.99"), stock=10)
    shipped = paid_order(product, quantity=2, payment_method=card, reference="ch_secret_ref")
    order_services.order_ship(order=shipped, carrier="UPS", tracking_number="1ZEXPORT")
    placed = place_order(product, customer=customer)

    response = export(client, Order)

    rows = {row["number"]: row for row in csv_rows(response)}
    assert csv_header(response) == ORDER_COLUMNS
    assert set(rows) == {shipped.number, placed.number}
    row = rows[shipped.number]
    assert row["customer_name"] == "Ada Lovelace"
    assert row["email"] == "ada@example.com"
    assert row["status"] == "shipped"
    assert row["currency"] == "USD"
    assert Decimal(row["subtotal"]) == Decimal("39.98")
    assert Decimal(row["total"]) == Decimal(row["subtotal"]) + Decimal(row["shipping"]) == shipped.total
    assert (row["tracking_number"], row["carrier"]) == ("1ZEXPORT", "UPS")
    assert row["placed_at"] == shipped.created_at.strftime("%Y-%m-%d %H:%M:%S")
    assert (rows[placed.number]["tracking_number"], rows[placed.number]["carrier"]) == ("", "")
    content = response.content.decode()
    for secret in ["tok_secret_4242", "4242", "ch_secret_ref", "Visa"]:
        assert secret not in content


def test_shipping_staff_export_orders_without_customers_emails(client):
    # Shipping staff may not see customers: the name an order ships to, never how to reach them.
    log_in(client, SHIPPING)
    customer = shop_customer(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    order = place_order(ProductFactory(stock=5), customer=customer)

    page = client.get(admin_url(Order, "export"))
    response = export(client, Order)

    assert csv_header(response) == [column for column in ORDER_COLUMNS if column != "email"]
    (row,) = csv_rows(response)
    assert (row["number"], row["customer_name"]) == (order.number, "Ada Lovelace")
    assert "ada@example.com" not in response.content.decode()
    assert "email" not in {field.label for field in page.context["form"].fields.values()}
    # Asking for the column anyway (a forged form) writes nothing more.
    forged = client.post(
        admin_url(Order, "export"), {"format": "0", "resource": "0", "orderresource_email": "on"}
    )
    assert "ada@example.com" not in forged.getvalue().decode()


def test_order_export_has_the_lists_filter_applied(client):
    log_in(client, CUSTOMER_SERVICE)
    paid = OrderFactory(status=Order.Status.PAID)
    OrderFactory(status=Order.Status.PLACED)

    rows = csv_rows(export(client, Order, query="status__exact=paid"))

    assert [row["number"] for row in rows] == [paid.number]


def test_customer_typed_text_is_exported_as_text_not_as_a_formula(client):
    log_in(client, MANAGER)
    customer = shop_customer(first_name='=HYPERLINK("http://evil")', last_name="X", email="-1+1@example.com")
    OrderFactory(customer=customer)

    (row,) = csv_rows(export(client, Order))

    assert row["customer_name"].startswith("'=HYPERLINK")
    assert row["email"] == "'-1+1@example.com"


def test_excel_export_of_orders_has_the_columns_and_real_numbers(client):
    log_in(client, MANAGER)
    product = ProductFactory(price=Decimal("19.99"), stock=5)
    order = place_order(product)

    response = export(client, Order, file_format="xlsx")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header, row = list(sheet.iter_rows(values_only=True))
    assert list(header) == ORDER_COLUMNS
    values = dict(zip(header, row, strict=True))
    assert values["number"] == order.number
    assert Decimal(str(values["total"])) == order.total
    assert isinstance(values["total"], int | float | Decimal)


def _shipped_in_parts(product_a, product_b, *, first=("UPS", "1ZPART1"), second=("DHL", "JDPART2")):
    order = paid_order(product_a, product_b)
    line_a, line_b = order.lines.order_by("pk")
    order_services.order_ship(order=order, carrier=first[0], tracking_number=first[1], lines=[(line_a, 1)])
    order_services.order_ship(order=order, carrier=second[0], tracking_number=second[1], lines=[(line_b, 1)])
    return order


def test_an_order_shipped_in_parts_exports_every_tracking_number_and_carrier(client):
    log_in(client, CUSTOMER_SERVICE)
    a, b, c = (ProductFactory(stock=5) for _ in range(3))
    two_parts = _shipped_in_parts(a, b)
    partly = paid_order(a, c)
    order_services.order_ship(
        order=partly, carrier="courier", tracking_number="", lines=[(partly.lines.order_by("pk")[0], 1)]
    )
    same_carrier = _shipped_in_parts(b, c, first=("UPS", "1ZSAME1"), second=("UPS", "1ZSAME2"))

    rows = {row["number"]: row for row in csv_rows(export(client, Order))}

    assert (rows[two_parts.number]["tracking_number"], rows[two_parts.number]["carrier"]) == (
        "1ZPART1, JDPART2",
        "UPS, DHL",
    )
    assert rows[two_parts.number]["status"] == "shipped"
    # An untracked carrier's parcel has no number to show; the carrier is still named.
    assert (rows[partly.number]["tracking_number"], rows[partly.number]["carrier"]) == ("", "Local courier")
    assert rows[partly.number]["status"] == "partially_shipped"
    assert rows[same_carrier.number]["tracking_number"] == "1ZSAME1, 1ZSAME2"
    assert rows[same_carrier.number]["carrier"] == "UPS"


def test_the_order_export_reads_shipments_without_a_query_per_row():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orders.resources import OrderResource

    def queries_for_export() -> int:
        with CaptureQueriesContext(connection) as queries:
            OrderResource().export(queryset=Order.objects.order_by("pk"))
        return len(queries)

    products = [ProductFactory(stock=50) for _ in range(2)]
    for n in range(2):
        _shipped_in_parts(*products, first=("UPS", f"1ZA{n}"), second=("FedEx", f"77B{n}"))
    few = queries_for_export()
    for n in range(6):
        _shipped_in_parts(*products, first=("DHL", f"JDC{n}"), second=("USPS", f"94D{n}"))
    assert queries_for_export() == few <= 4
