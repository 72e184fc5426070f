"""The admin's exports are streamed (shop.core.streaming_export) and write exactly what
django-import-export's in-memory export writes from instances, for the same list and user:
the same bytes in CSV, the same cells in XLSX, the list's filters, the user's columns, the
export permission, and a number of queries that does not grow with the rows."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.http import FileResponse, StreamingHttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from import_export.fields import Field
from import_export.resources import ModelResource
from import_export.widgets import IntegerWidget

from catalog.models import Stock
from customers.models import Customer
from orders.models import Carrier, Order, Shipment
from orders.resources import OrderResource
from shop.core.export_formats import InertCSV, InertXLSX
from shop.core.streaming_export import StreamedExport, renderer
from tests.admin_support import SHIPPING, admin_url, csv_rows, export, log_in, paid_order, staff_member
from tests.core.test_export_cells import exporting_admins, fill_with_formulas, text_fields_behind
from tests.factories import CustomerFactory, OrderFactory, ProductFactory, ShipmentFactory, UserFactory

pytestmark = pytest.mark.django_db

#: Text that commas, quotes, line breaks, formulas and non-ASCII put to the test.
AWKWARD = [
    'O\'Brien, "Jr"',
    "line\nbreak",
    '=HYPERLINK("http://x","y")',
    "+1",
    "-1+2",
    "@SUM(1)",
    "\t=1",
    "Zoë",
]


def many_orders(count: int) -> list[Order]:
    """`count` orders in a few bulk statements: awkward names, varied amounts and statuses, and
    none, one or two shipments (one of them untracked)."""
    customers = Customer.objects.bulk_create(
        CustomerFactory.build(first_name=AWKWARD[n % len(AWKWARD)], last_name=f"Buyer{n}") for n in range(40)
    )
    statuses = list(Order.Status.values)
    orders = Order.objects.bulk_create(
        OrderFactory.build(
            customer=customers[n % len(customers)],
            status=statuses[n % len(statuses)],
            subtotal=Decimal(n % 500) + Decimal("0.99"),
            shipping_cost=Decimal("4.50") if n % 3 else Decimal("0.00"),
            total=Decimal(n % 500) + Decimal("0.99") + (Decimal("4.50") if n % 3 else Decimal("0.00")),
        )
        for n in range(count)
    )
    orders = list(Order.objects.order_by("pk"))  # with their keys on every database
    ups, dhl = Carrier.objects.get(code="ups"), Carrier.objects.get(code="dhl")
    shipped_at = timezone.now()
    shipments = []
    for n, order in enumerate(orders):
        if n % 4 == 1:
            shipments.append(ShipmentFactory.build(order=order, carrier=ups, shipped_at=shipped_at))
        elif n % 4 == 2:
            shipments.append(
                ShipmentFactory.build(order=order, carrier=dhl, tracking_number="", shipped_at=shipped_at)
            )
            shipments.append(ShipmentFactory.build(order=order, carrier=ups, shipped_at=shipped_at))
    Shipment.objects.bulk_create(shipments)
    return orders


def in_memory_export(model_admin, user, file_format, query: str = "") -> bytes:
    """What django-import-export's export wrote before: the list's queryset, the resource's
    export() from instances, the inert format's export_data, for this user."""
    request = RequestFactory().get(admin_url(model_admin.model, "export") + (f"?{query}" if query else ""))
    request.user = user
    queryset = model_admin.get_export_queryset(request)
    data = model_admin.get_export_data(file_format, request, queryset, encoding=model_admin.to_encoding)
    return data.encode() if isinstance(data, str) else data


def sheet_cells(content: bytes) -> list:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [
        [(cell.value, cell.data_type, cell.font.b) for cell in row if cell.value is not None]
        for row in sheet.iter_rows()
    ]


def test_the_order_export_streams_the_bytes_the_in_memory_export_wrote(client, superuser):
    many_orders(3000)
    client.force_login(superuser)
    model_admin = next(ma for ma in exporting_admins() if ma.model is Order)

    response = export(client, Order)

    assert response.streamed
    assert response.content == in_memory_export(model_admin, superuser, InertCSV())
    assert len(csv_rows(response)) == 3000


def test_the_order_export_of_shipping_staff_has_their_columns_as_the_in_memory_export(client):
    many_orders(500)
    user = log_in(client, SHIPPING)
    model_admin = next(ma for ma in exporting_admins() if ma.model is Order)

    response = export(client, Order)

    assert response.content == in_memory_export(model_admin, user, InertCSV())
    assert "email" not in response.content.decode().splitlines()[0]


def test_the_order_xlsx_export_has_the_cells_of_the_in_memory_export(client, superuser):
    many_orders(1000)
    client.force_login(superuser)
    model_admin = next(ma for ma in exporting_admins() if ma.model is Order)

    response = export(client, Order, file_format="xlsx")

    assert response.streamed
    ours, before = (
        sheet_cells(response.content),
        sheet_cells(in_memory_export(model_admin, superuser, InertXLSX())),
    )
    assert len(ours) == 1001
    assert ours == before


@pytest.fixture
def shop_with_formulas(db):
    """A few rows of every export, with formula-looking text in every text field they read."""
    for _ in range(3):
        paid_order(ProductFactory(stock=5))
    many_orders(4)  # with the 3 above, one payload each: the order numbers they are cut to differ
    Stock.objects.filter(product=ProductFactory()).delete()  # a product without stock figures: blank cells
    pairs = set().union(
        *(text_fields_behind(r) for ma in exporting_admins() for r in ma.export_resource_classes)
    )
    return fill_with_formulas(pairs)


@pytest.mark.parametrize("model_admin", exporting_admins(), ids=lambda ma: ma.opts.label_lower)
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_every_export_streams_what_the_in_memory_export_wrote(
    client, superuser, shop_with_formulas, model_admin, file_format
):
    client.force_login(superuser)

    response = export(client, model_admin.model, file_format=file_format)

    assert response.streamed
    if file_format == "csv":
        assert response.content == in_memory_export(model_admin, superuser, InertCSV())
        assert "'=" in response.content.decode()
    else:
        ours = sheet_cells(response.content)
        assert ours == sheet_cells(in_memory_export(model_admin, superuser, InertXLSX()))
        assert any(isinstance(v, str) and v.startswith("=") and t == "s" for row in ours for v, t, _ in row)


@pytest.mark.parametrize("model_admin", exporting_admins(), ids=lambda ma: ma.opts.label_lower)
def test_an_export_is_a_stream_named_as_import_export_names_it(admin_client, model_admin):
    day = timezone.now().strftime("%Y-%m-%d")

    for file_format, response_class in (("csv", StreamingHttpResponse), ("xlsx", FileResponse)):
        response = export(admin_client, model_admin.model, file_format=file_format, download=False)
        assert isinstance(response, response_class)
        name = f"{model_admin.model.__name__}-{day}.{file_format}"
        assert response["Content-Disposition"] == f'attachment; filename="{name}"'
        b"".join(response.streaming_content)


def test_a_filtered_and_searched_order_list_exports_only_its_rows(client, superuser):
    orders = many_orders(400)
    client.force_login(superuser)
    model_admin = next(ma for ma in exporting_admins() if ma.model is Order)
    customer = orders[0].customer
    query = f"status__exact={orders[0].status}&q={customer.email}"

    response = export(client, Order, query=query)

    listed = {o.number for o in Order.objects.filter(status=orders[0].status, customer=customer)}
    assert {row["number"] for row in csv_rows(response)} == listed
    assert 0 < len(listed) < Order.objects.filter(customer=customer).count()
    assert response.content == in_memory_export(model_admin, superuser, InertCSV(), query=query)


@pytest.mark.parametrize("model_admin", exporting_admins(), ids=lambda ma: ma.opts.label_lower)
def test_staff_without_the_export_permission_get_403(client, model_admin):
    client.force_login(UserFactory(is_staff=True))
    url = admin_url(model_admin.model, "export")

    assert client.get(url).status_code == 403
    assert client.post(url, {"format": "0", "resource": "0"}).status_code == 403


def test_shipping_staff_posting_the_stock_export_form_get_403(client):
    client.force_login(staff_member(SHIPPING))

    assert client.post(admin_url(Stock, "export"), {"format": "0", "resource": "0"}).status_code == 403


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_order_export_costs_the_same_queries_for_10_or_900_rows(client, superuser, file_format):
    client.force_login(superuser)
    counts = []
    for total in (10, 900):  # in one chunk (export_chunk_size) of rows and of related rows
        many_orders(total - Order.objects.count())
        with CaptureQueriesContext(connection) as queries:
            response = export(client, Order, file_format=file_format)
        assert response.status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_a_column_the_stream_cannot_read_is_refused_not_exported_wrong():
    class Computed(ModelResource):
        number = Field(attribute="number", column_name="number")
        lines = Field(column_name="lines")

        class Meta:
            model = Order
            fields = ("number", "lines")

        def dehydrate_lines(self, order):
            return order.lines.count()

    class ThroughMany(ModelResource):
        product = Field(attribute="lines__product_name", column_name="product")

        class Meta:
            model = Order
            fields = ("product",)

    for resource in (Computed(), ThroughMany()):
        with pytest.raises(ImproperlyConfigured, match="streamed_columns"):
            StreamedExport(resource, Order.objects.all(), native=False)


RENDERED = {
    "number": [None, "", "SO-1", "=1+1"],
    "subtotal": [None, Decimal("0.00"), Decimal("-1.50"), Decimal("12345678.99"), Decimal("1E+2")],
    "created_at": [None, timezone.now(), timezone.now().replace(month=1, day=1, hour=0)],
}


@pytest.mark.parametrize("thousands", [False, True])
@pytest.mark.parametrize("native", [False, True])
def test_the_cheaper_renderers_give_what_the_widgets_render(settings, native, thousands):
    settings.USE_THOUSAND_SEPARATOR = thousands
    resource = OrderResource()
    fields = {"number": "number", "subtotal": "subtotal", "created_at": "placed_at"}
    for model_field_name, values in RENDERED.items():
        widget = resource.fields[fields[model_field_name]].widget
        render = renderer(widget, native, Order._meta.get_field(model_field_name))
        for value in values:
            expected = widget.render(value, force_native_type=native)
            assert (value if render is None else render(value)) == expected, (model_field_name, value)
    assert renderer(IntegerWidget(), False, Stock._meta.get_field("on_hand"))(
        -1234
    ) == IntegerWidget().render(-1234)
