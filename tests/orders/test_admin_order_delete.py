"""However an order is deleted in the admin, the stock it holds goes back, with a trace."""

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.urls import reverse

from catalog.models import Stock, StockMovement
from catalog.services import product_create
from orders.models import Order
from orders.services import order_place
from payments.services import payment_capture
from shop.backoffice.integrity import find_violations
from tests.factories import AddressFactory, CustomerFactory, PaymentMethodFactory, ProductTypeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed():
    product = product_create(
        name="Lamp", sku="LAMP-9", product_type=ProductTypeFactory(), price="20.00", initial_stock=10
    )
    customer = CustomerFactory()
    AddressFactory(customer=customer, is_default_shipping=True)
    method = PaymentMethodFactory(customer=customer)
    orders = [order_place(customer=customer, lines=[(product, 2)], payment_method=method) for _ in range(3)]
    payment_capture(order=orders[0])
    return product, orders


def test_delete_page_removes_the_order_and_releases_its_stock(admin_client, superuser, placed):
    product, orders = placed
    url = reverse("admin:orders_order_delete", args=[orders[0].pk])
    page = admin_client.get(url)
    assert page.status_code == 200 and b"permission" not in page.content.lower()
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Order.objects.filter(pk=orders[0].pk).exists()
    assert Stock.objects.get(pk=product.pk).allocated == 4
    release = StockMovement.objects.get(kind="release")
    assert (release.order_number, release.actor) == (orders[0].number, superuser)
    assert LogEntry.objects.filter(action_flag=DELETION, object_id=str(orders[0].pk)).exists()
    assert find_violations() == []


def test_bulk_delete_releases_every_order(admin_client, superuser, placed):
    product, orders = placed
    response = admin_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "delete_selected", "_selected_action": [o.pk for o in orders], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Order.objects.exists()
    assert Stock.objects.get(pk=product.pk).allocated == 0
    assert StockMovement.objects.filter(kind="release", actor=superuser).count() == 3
    assert LogEntry.objects.filter(action_flag=DELETION).count() == 3
    assert find_violations() == []
