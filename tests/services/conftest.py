import pytest

from catalog.models import Stock
from tests.factories import AddressFactory, CustomerFactory, PaymentMethodFactory, ProductFactory


@pytest.fixture
def customer(db):
    customer = CustomerFactory()
    AddressFactory(customer=customer, is_default_shipping=True, is_default_billing=True)
    return customer


@pytest.fixture
def card(customer):
    return PaymentMethodFactory(customer=customer, is_default=True)


@pytest.fixture
def make_product(db):
    def make(on_hand=10, **kwargs):
        return ProductFactory(stock=on_hand, **kwargs)

    return make


@pytest.fixture
def make_received_product(db):
    """A product whose stock arrived through stock_receive, so its ledger adds up."""
    from catalog.services import stock_receive

    def make(on_hand=10, **kwargs):
        product = ProductFactory(stock=0, **kwargs)
        if on_hand:
            stock_receive(product=product, quantity=on_hand)
        return product

    return make


def stock_of(product) -> Stock:
    return Stock.objects.get(pk=product.pk)
