import pytest

from tests.factories import (
    AddressFactory,
    CustomerFactory,
    PaymentMethodFactory,
    ProductFactory,
    SuperuserFactory,
)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Every test: MD5 instead of PBKDF2's 1,000,000 rounds (each login or user made with a
    password costs about a second less). Nothing here tests the hasher itself; production keeps
    Django's default."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def superuser(db):
    return SuperuserFactory()


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


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
