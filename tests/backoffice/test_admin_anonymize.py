"""Anonymizing a customer from the admin: confirm, erase, keep the orders, leave a trace; a
customer with open orders is refused, naming them, and the others of a selection go ahead."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.services import product_create
from customers.models import Customer
from orders.models import Order
from orders.services import order_cancel
from tests.admin_support import (
    CUSTOMER_SERVICE,
    INVENTORY,
    SHIPPING,
    admin_url,
    log_in,
    messages_of,
    place_order,
    shop_customer,
)
from tests.factories import ProductTypeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def product():
    return product_create(
        name="Mug", sku="MUG-1", product_type=ProductTypeFactory(), price="9.00", initial_stock=9
    )


@pytest.fixture
def customer_with_order(product):
    """A customer whose order is done with (cancelled): nothing left to ship to them."""
    customer = shop_customer(first_name="Erin", last_name="Erase", email="erin@example.com")
    order = place_order(product, customer=customer)
    order_cancel(order=order)
    return customer, order


@pytest.fixture
def customer_with_open_order(product):
    customer = shop_customer(first_name="Owen", last_name="Open", email="owen@example.com")
    order = place_order(product, customer=customer)
    return customer, order


def _post(client, customer, **extra):
    return client.post(
        admin_url(Customer, "changelist"),
        {"action": "anonymize_selected", "_selected_action": [customer.pk], **extra},
    )


def test_customer_service_anonymizes_after_confirming(client, customer_with_order):
    customer, order = customer_with_order
    user = log_in(client, CUSTOMER_SERVICE)
    confirm = _post(client, customer)
    assert confirm.status_code == 200
    assert b"Erin Erase" in confirm.content and b"cannot be undone" in confirm.content
    customer.refresh_from_db()
    assert customer.anonymized_at is None  # nothing happens before the confirmation

    response = _post(client, customer, apply="yes")
    assert response.status_code == 302
    assert any("anonymized" in m for m in messages_of(response))
    customer.refresh_from_db()
    assert customer.anonymized_at is not None and customer.first_name == "Anonymized"
    order = Order.objects.get(pk=order.pk)
    assert order.shipping_name == "[removed]" and order.lines.count() == 1
    assert LogEntry.objects.filter(
        user=user, action_flag=CHANGE, object_id=str(customer.pk), change_message__contains="Anonymized"
    ).exists()
    assert order.events.filter(actor=user, message__contains="anonymized").exists()


@pytest.mark.parametrize("role", [SHIPPING, INVENTORY])
def test_roles_without_the_permission_cannot_anonymize(client, customer_with_order, role):
    customer, _ = customer_with_order
    log_in(client, role)
    response = _post(client, customer, apply="yes")
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.anonymized_at is None


def test_the_selection_page_marks_a_customer_with_open_orders_and_names_them(
    client, customer_with_order, customer_with_open_order
):
    erin, _ = customer_with_order
    owen, open_order = customer_with_open_order
    log_in(client, CUSTOMER_SERVICE)

    page = client.post(
        admin_url(Customer, "changelist"),
        {"action": "anonymize_selected", "_selected_action": [erin.pk, owen.pk]},
    )

    html = page.content.decode()
    assert "1 of these customers cannot be anonymized now" in html
    assert f"Open order not yet shipped or cancelled: {open_order.number}. Ship or cancel them first." in html


def test_a_selection_anonymizes_the_others_and_names_the_open_orders_it_refused(
    client, customer_with_order, customer_with_open_order
):
    erin, _ = customer_with_order
    owen, open_order = customer_with_open_order
    log_in(client, CUSTOMER_SERVICE)

    response = client.post(
        admin_url(Customer, "changelist"),
        {"action": "anonymize_selected", "_selected_action": [erin.pk, owen.pk], "apply": "yes"},
    )

    assert response.status_code == 302
    assert messages_of(response) == [
        f"Customer #{owen.pk} has 1 open order not yet shipped or cancelled: {open_order.number} "
        "(placed). Ship or cancel it first; nothing was changed.",
        "1 customer anonymized; their orders were kept.",
    ]
    erin.refresh_from_db()
    owen.refresh_from_db()
    assert erin.anonymized_at is not None
    assert owen.anonymized_at is None and owen.email == "owen@example.com"
    assert Order.objects.get(pk=open_order.pk).shipping_name != "[removed]"


def test_the_single_page_warns_and_a_post_is_refused_with_the_orders_named(client, customer_with_open_order):
    owen, open_order = customer_with_open_order
    log_in(client, CUSTOMER_SERVICE)
    url = admin_url(Customer, "anonymize", owen.pk)

    page = client.get(url)
    response = client.post(url, {})

    assert f"Open order not yet shipped or cancelled: {open_order.number}" in page.content.decode()
    assert response.status_code == 200
    assert messages_of(response) == [
        f"Customer #{owen.pk} has 1 open order not yet shipped or cancelled: {open_order.number} "
        "(placed). Ship or cancel it first; nothing was changed."
    ]
    owen.refresh_from_db()
    assert owen.anonymized_at is None
    # Once the order is cancelled, the same page anonymizes.
    order_cancel(order=open_order)
    assert client.post(url, {}).status_code == 302
    owen.refresh_from_db()
    assert owen.anonymized_at is not None


def test_the_selection_page_reads_open_orders_in_one_statement_for_any_number_of_customers(client, product):
    log_in(client, CUSTOMER_SERVICE)
    few = [shop_customer() for _ in range(2)]
    many = [*few, *(shop_customer() for _ in range(8))]

    def page_queries(customers):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                admin_url(Customer, "changelist"),
                {"action": "anonymize_selected", "_selected_action": [c.pk for c in customers]},
            )
        assert response.status_code == 200
        return len(queries)

    assert page_queries(many) == page_queries(few)
