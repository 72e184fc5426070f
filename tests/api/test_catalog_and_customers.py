"""GET /products, customers, addresses and saved cards through the API."""

import pytest

from customers.models import Address, Customer
from orders.services import order_place
from payments.models import PaymentMethod
from tests.api.conftest import assert_problem
from tests.factories import CustomerFactory, ProductFactory, ProductTypeFactory

pytestmark = pytest.mark.django_db


def test_products_have_price_currency_and_available_quantity(api, customer):
    product = ProductFactory(stock=10, price="12.50")
    order_place(customer=customer, lines=[(product, 3)])
    item = api.get("/products").json()["items"][0]
    assert item == {
        "sku": product.sku,
        "name": product.name,
        "type": product.product_type.name,
        "description": "",
        "price": "12.50",
        "currency": "USD",
        "active": True,
        "available": 7,
    }


def test_cursor_pagination_walks_every_product_once(api, django_assert_max_num_queries):
    made = [ProductFactory(stock=1).sku for _ in range(7)]
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        with django_assert_max_num_queries(6):
            body = api.get("/products", params).json()
        seen += [item["sku"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == made


def test_filters_and_search(api):
    gadgets = ProductTypeFactory(name="Gadgets")
    hub = ProductFactory(stock=1, name="USB hub", sku="EL-HUB-007", product_type=gadgets)
    ProductFactory(stock=1, name="Lamp", sku="HO-LAMP-1", is_active=False)

    def skus(**params):
        return [i["sku"] for i in api.get("/products", params).json()["items"]]

    assert skus(type="gadgets") == [hub.sku]
    assert skus(active="false") == ["HO-LAMP-1"]
    assert skus(q="hub") == [hub.sku]
    assert skus(q="el-hub") == [hub.sku]
    assert skus(q="nothing") == []


def test_bad_cursor_and_limit_are_422(api):
    assert_problem(api.get("/products", {"cursor": "garbage!"}), 422, "invalid_cursor")
    assert_problem(api.get("/products", {"limit": 0}), 422, "validation_error")
    assert_problem(api.get("/products", {"limit": 10**9}), 422, "validation_error")


def test_product_by_sku_in_any_case(api):
    ProductFactory(stock=2, sku="EL-HUB-007")
    assert api.get("/products/el-hub-007").json()["sku"] == "EL-HUB-007"
    assert_problem(api.get("/products/NOPE"), 404, "product_not_found")


def test_create_read_and_patch_a_customer(api):
    body = {"first_name": "Ada", "last_name": "Lovelace", "email": "Ada@Example.com", "phone": "202-555-0101"}
    created = api.post("/customers", body)
    assert created.status_code == 201
    customer_id = created.json()["id"]
    assert api.get(f"/customers/{customer_id}").json()["email"] == "Ada@Example.com"
    patched = api.patch(f"/customers/{customer_id}", {"last_name": "King"})
    assert patched.status_code == 200 and patched.json()["last_name"] == "King"
    assert Customer.objects.get(pk=customer_id).first_name == "Ada"


def test_duplicate_email_in_any_case_is_refused(api):
    CustomerFactory(email="ada@example.com")
    body = {"first_name": "Ada", "last_name": "L", "email": "ADA@example.com"}
    assert_problem(api.post("/customers", body), 422, "email_taken")
    assert Customer.objects.count() == 1


def test_invalid_email_or_phone_has_field_errors(api):
    problem = assert_problem(
        api.post(
            "/customers", {"first_name": "A", "last_name": "B", "email": "not-an-email", "phone": "123"}
        ),
        422,
        "invalid_customer_details",
    )
    assert {e["field"] for e in problem["errors"]} == {"email", "phone"}


def test_patch_null_and_unknown_customer(api, customer):
    assert_problem(api.patch(f"/customers/{customer.pk}", {"email": None}), 422, "validation_error")
    assert_problem(api.get("/customers/999999"), 404, "customer_not_found")
    assert_problem(api.patch("/customers/999999", {}), 404, "customer_not_found")


def test_addresses_add_list_delete(api, customer):
    old_default = customer.addresses.get()
    body = {
        "line1": "1 Main St",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "us",
        "is_default_shipping": True,
    }
    created = api.post(f"/customers/{customer.pk}/addresses", body)
    assert created.status_code == 201 and created.json()["country"] == "US"
    old_default.refresh_from_db()
    assert not old_default.is_default_shipping  # the new default took over
    listed = api.get(f"/customers/{customer.pk}/addresses").json()
    assert [a["id"] for a in listed] == [old_default.pk, created.json()["id"]]
    assert api.delete(f"/customers/{customer.pk}/addresses/{old_default.pk}").status_code == 204
    assert not Address.objects.filter(pk=old_default.pk).exists()
    other = CustomerFactory()
    assert_problem(
        api.delete(f"/customers/{other.pk}/addresses/{created.json()['id']}"), 404, "address_not_found"
    )


def test_invalid_country_is_422(api, customer):
    body = {"line1": "1", "city": "X", "postal_code": "1", "country": "ZZ"}
    assert_problem(api.post(f"/customers/{customer.pk}/addresses", body), 422, "invalid_customer_details")


CARD = {"gateway_token": "tok_abc", "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2099}


def test_save_a_card(api, customer):
    response = api.post(f"/customers/{customer.pk}/payment-methods", {**CARD, "is_default": True})
    assert response.status_code == 201
    assert response.json()["label"] == "Visa •••• 4242 exp 12/2099"
    assert PaymentMethod.objects.get(pk=response.json()["id"]).gateway_token == "tok_abc"


@pytest.mark.parametrize(
    "changes",
    [
        {"gateway_token": "4242424242424242"},
        {"holder_name": "4111 1111 1111 1111"},
        {"card_number": "4242424242424242"},
        {"last4": "4242424242424242"},
    ],
)
def test_anything_like_a_card_number_is_422_and_nothing_is_stored(api, customer, changes):
    response = api.post(f"/customers/{customer.pk}/payment-methods", {**CARD, **changes})
    assert response.status_code == 422 and response["Content-Type"] == "application/problem+json"
    assert "4242424242424242" not in response.content.decode()
    assert "4111" not in response.content.decode()
    assert not PaymentMethod.objects.exists()


def test_expired_card_is_refused(api, customer):
    assert_problem(
        api.post(f"/customers/{customer.pk}/payment-methods", {**CARD, "exp_year": 2001}),
        422,
        "payment_method_expired",
    )
