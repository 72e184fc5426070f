"""The customers' staff screens: customers found by name, email and phone, one customer per
email address, and one default shipping and billing address per customer, on the address page
and on the customer page."""

import pytest

from customers.models import Address, Customer
from tests.admin_support import admin_url, form_data, page_errors
from tests.factories import AddressFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_customer_search_finds_by_name_email_and_phone(admin_client):
    customer = CustomerFactory(first_name="Grace", last_name="Hopper", email="grace@navy.example")
    CustomerFactory(first_name="Alan", last_name="Turing", email="alan@example.com")
    url = admin_url(Customer, "changelist")

    shown_phone = str(customer.phone)  # national format, e.g. (202) 555-0123
    for term in ["Grace", "hopper", "navy.example", shown_phone, shown_phone[-8:], customer.phone.as_e164]:
        results = list(admin_client.get(url, {"q": term}).context["cl"].result_list)
        assert results == [customer], term


def test_second_customer_with_same_email_in_other_case_shows_error(admin_client):
    CustomerFactory(email="dup@example.com")
    data = form_data(admin_client.get(admin_url(Customer, "add")))
    data.update(first_name="Dup", last_name="Licate", email="DUP@example.com")

    response = admin_client.post(admin_url(Customer, "add"), data)

    assert response.status_code == 200
    assert "A customer with this email address already exists." in page_errors(response)
    assert Customer.objects.count() == 1


def test_second_default_shipping_address_on_add_form_shows_error_and_saves_nothing(admin_client):
    first = AddressFactory(is_default_shipping=True)
    data = form_data(admin_client.get(admin_url(Address, "add")))
    data.update(
        customer=str(first.customer.pk),
        line1="2 Second Street",
        city="Springfield",
        postal_code="62702",
        country="US",
        is_default_shipping="on",
    )

    response = admin_client.post(admin_url(Address, "add"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["is_default_shipping"] == [
        "This customer already has a default shipping address."
    ]
    assert Address.objects.count() == 1


def test_default_shipping_address_of_another_customer_does_not_block_a_new_default(admin_client):
    AddressFactory(is_default_shipping=True)
    customer = CustomerFactory()
    data = form_data(admin_client.get(admin_url(Address, "add")))
    data.update(
        customer=str(customer.pk),
        line1="1 Own Street",
        city="Springfield",
        postal_code="62702",
        country="US",
        is_default_shipping="on",
    )

    response = admin_client.post(admin_url(Address, "add"), data)

    assert response.status_code == 302
    assert customer.addresses.get().is_default_shipping


def test_customer_page_refuses_two_default_billing_addresses_in_one_submit(admin_client):
    customer = CustomerFactory()
    AddressFactory(customer=customer, is_default_billing=True)
    AddressFactory(customer=customer)
    url = admin_url(Customer, "change", customer.pk)
    data = form_data(admin_client.get(url))
    data["addresses-1-is_default_billing"] = "on"

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "This customer already has a default billing address." in page_errors(response)
    assert customer.addresses.filter(is_default_billing=True).count() == 1
