"""Anonymizing a customer from the admin: confirm, erase, keep the orders, leave a trace."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry

from catalog.services import product_create
from customers.models import Customer
from orders.models import Order
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
def customer_with_order():
    customer = shop_customer(first_name="Erin", last_name="Erase", email="erin@example.com")
    product = product_create(
        name="Mug", sku="MUG-1", product_type=ProductTypeFactory(), price="9.00", initial_stock=5
    )
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
