import pytest

from tests.factories import ProductFactory


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
