"""The order desk's admin pages and searches: what they answer, what they refuse (never a 500),
and what they cost (the same statements with few rows as with many)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Stock
from customers.models import Customer
from orders import services as order_services
from orders.models import Order, OrderStatus
from orders.selectors import DESK_RESULTS
from payments.models import Payment
from tests.admin_support import CUSTOMER_SERVICE, MANAGER, admin_url, log_in, messages_of, shop_customer
from tests.factories import AddressFactory, CustomerFactory, PaymentMethodFactory, ProductFactory

pytestmark = pytest.mark.django_db

CUSTOMERS_URL = "/admin/orders/order/desk/customers/"
PRODUCTS_URL = "/admin/orders/order/desk/products/"
SHIPPING_URL = "/admin/orders/order/desk/shipping/"
FORMULAS = ['=HYPERLINK("http://evil.example")', "+SUM(A1:A9)", "-2+3", "@cmd", "<script>x()</script>"]


@pytest.fixture
def desk(client):
    """A customer service member, a customer with an address and a card, a product, a draft."""
    log_in(client, CUSTOMER_SERVICE)
    customer = shop_customer(
        first_name="Ada", last_name="Lovelace", email="ada@example.com", phone="+15035550100"
    )
    PaymentMethodFactory(customer=customer, is_default=True)
    product = ProductFactory(name="Teapot", sku="TEA-POT", stock=5)
    draft = order_services.order_draft_create(customer=customer)
    return customer, product, draft


def editor_post(*rows, address=None, **fields) -> dict:
    data = {
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "100",
    }
    for index, (sku, quantity) in enumerate(rows):
        data[f"lines-{index}-sku"] = sku
        data[f"lines-{index}-quantity"] = quantity
    if address is not None:
        data["shipping_address"] = str(address)
    return {**data, **fields}


# The searches


def test_customer_search_finds_by_name_email_and_phone_as_json(client, desk):
    customer, _, _ = desk
    CustomerFactory(first_name="Charles", last_name="Babbage", email="charles@example.com")

    for term in [
        "Love",
        "lovelace",
        "ada lov",
        "ada@ex",
        "ADA@EXAMPLE.COM",
        "503 555 0100",
        "(503) 555-0100",
    ]:
        body = client.get(CUSTOMERS_URL, {"q": term}).json()
        assert [row["id"] for row in body["results"]] == [customer.pk], term
        assert body["results"][0] == {
            "id": customer.pk,
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "phone": "(503) 555-0100",
        }
    # Inside a name, when nothing starts with the term.
    assert [row["name"] for row in client.get(CUSTOMERS_URL, {"q": "bbag"}).json()["results"]] == [
        "Charles Babbage"
    ]


def test_customer_search_is_bounded_and_says_more_match(client, desk):
    for n in range(DESK_RESULTS + 5):
        CustomerFactory(first_name="Sam", last_name=f"Smith{n:02d}")

    body = client.get(CUSTOMERS_URL, {"q": "smith"}).json()

    assert len(body["results"]) == DESK_RESULTS
    assert body["more"] is True
    assert [row["name"] for row in body["results"]] == sorted(row["name"] for row in body["results"])


def test_customer_search_leaves_out_anonymized_customers(client, desk):
    customer, _, _ = desk
    order_services.customer_anonymize(customer=CustomerFactory(first_name="Zed", last_name="Gone"))

    assert client.get(CUSTOMERS_URL, {"q": "anonymized"}).json()["results"] == []
    assert client.get(CUSTOMERS_URL, {"q": "Lovelace"}).json()["results"][0]["id"] == customer.pk


def test_product_search_shows_price_and_available_stock_and_skips_inactive(client, desk):
    _, product, _ = desk
    Stock.objects.filter(pk=product.pk).update(allocated=2)
    ProductFactory(name="Teapot lid (discontinued)", sku="TEA-LID", stock=3, is_active=False)

    for term in ["teap", "TEA-POT", "tea-pot", "Teapot"]:
        body = client.get(PRODUCTS_URL, {"q": term}).json()
        assert body["results"] == [
            {
                "id": product.pk,
                "sku": "TEA-POT",
                "name": "Teapot",
                "price": "19.99",
                "price_display": "19.99 USD",
                "currency": "USD",
                "available": 3,
            }
        ], term


@pytest.mark.parametrize(
    "term", ["", " ", "%", "_", "'; DROP TABLE x; --", "a" * 5000, "\x00", "😀", *FORMULAS, "9" * 40]
)
def test_searches_answer_any_term_without_an_error(client, desk, term):
    for url in (CUSTOMERS_URL, PRODUCTS_URL):
        response = client.get(url, {"q": term})
        assert response.status_code == 200, (url, term)
        assert "results" in response.json()


@pytest.mark.parametrize("subtotal", ["abc", "1e400", "NaN", "-1", "Infinity", "1" * 40, "12,50"])
def test_shipping_preview_refuses_what_is_not_an_amount(client, desk, subtotal):
    response = client.get(SHIPPING_URL, {"subtotal": subtotal})

    assert response.status_code == 400
    assert "error" in response.json()


def test_shipping_preview_uses_the_services_rule(client, desk, settings):
    assert client.get(SHIPPING_URL, {"subtotal": "40"}).json() == {
        "subtotal": "40.00 USD",
        "shipping": "7.50 USD",
        "total": "47.50 USD",
    }
    assert client.get(SHIPPING_URL, {"subtotal": "100.00"}).json()["shipping"] == "0.00 USD"


def test_searches_are_for_the_order_desk_only(client, desk):
    client.logout()
    for role in ["Inventory staff", "Shipping staff"]:
        log_in(client, role)
        for url in (CUSTOMERS_URL, PRODUCTS_URL, SHIPPING_URL):
            assert client.get(url, {"q": "ada"}).status_code == 403, (role, url)
    client.logout()
    assert client.get(CUSTOMERS_URL, {"q": "ada"}).status_code == 302  # to the login page


# "Add order"


def test_add_order_starts_a_draft_for_a_chosen_customer(client, desk):
    customer, _, _ = desk

    response = client.post(admin_url(Order, "add"), {"customer": str(customer.pk)})

    draft = Order.objects.filter(customer=customer).latest("pk")
    assert response.status_code == 302
    assert response["Location"] == admin_url(Order, "place", draft.pk)
    assert draft.status == OrderStatus.DRAFT and draft.number.startswith("SO-")


@pytest.mark.parametrize(
    "value", ["", "abc", "-1", "0", "99999999999999999999", "1.5", "1 OR 1=1", *FORMULAS]
)
def test_add_order_with_a_wrong_customer_id_says_so(client, desk, value):
    before = Order.objects.count()

    response = client.post(admin_url(Order, "add"), {"customer": value}, follow=True)

    assert response.status_code == 200
    assert "Choose a customer from the search results" in " ".join(messages_of(response))
    assert Order.objects.count() == before


def test_add_order_for_a_new_customer_with_formulas_keeps_the_text_as_typed(client, desk):
    response = client.post(
        admin_url(Order, "add"),
        {
            "_new_customer": "1",
            "customer-first_name": "=HYPERLINK(1)",
            "customer-last_name": "+SUM(A1)",
            "customer-email": "formula@example.com",
            "customer-phone": "",
            "address-line1": "@cmd",
            "address-line2": "-2+3",
            "address-city": "<b>Town</b>",
            "address-state": "",
            "address-postal_code": "12345",
            "address-country": "US",
        },
    )

    customer = Customer.objects.get(email="formula@example.com")
    draft = Order.objects.get(customer=customer)
    assert response.status_code == 302
    assert (customer.first_name, customer.last_name) == ("=HYPERLINK(1)", "+SUM(A1)")
    address = customer.addresses.get()
    assert (address.line1, address.is_default_shipping, address.is_default_billing) == ("@cmd", True, True)
    page = client.get(admin_url(Order, "place", draft.pk)).content.decode()
    assert "<b>Town</b>" not in page  # escaped wherever it is shown


def test_add_order_for_a_new_customer_refuses_a_taken_email_and_creates_nothing(client, desk):
    customers, orders = Customer.objects.count(), Order.objects.count()

    response = client.post(
        admin_url(Order, "add"),
        {
            "_new_customer": "1",
            "customer-first_name": "Ada",
            "customer-last_name": "Again",
            "customer-email": "ADA@example.com",
            "address-line1": "1 Road",
            "address-city": "Town",
            "address-postal_code": "1",
            "address-country": "ZZ",
        },
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "A customer with this email address already exists." in html
    assert "Select a valid choice" in html  # the country
    assert (Customer.objects.count(), Order.objects.count()) == (customers, orders)


# The line editor


@pytest.mark.parametrize(
    "quantity, message",
    [
        ("100000000000000000000", "from 0 to 1,000,000"),
        ("-5", "from 0 to 1,000,000"),
        ("1e3", "whole number"),
        ("2.5", "whole number"),
        ("=1+1", "whole number"),
        ("", "Enter how many"),
    ],
)
def test_editor_refuses_wrong_quantities_and_changes_nothing(client, desk, quantity, message):
    customer, _, draft = desk

    response = client.post(
        admin_url(Order, "save_draft", draft.pk),
        editor_post(("TEA-POT", quantity), address=customer.addresses.get().pk),
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not draft.lines.exists()


def test_editor_refuses_control_characters_without_an_error(client, desk):
    customer, _, draft = desk
    address = customer.addresses.get().pk

    for sku in ["TEA\x00POT", "\x00", "TEA-POT\n"]:
        response = client.post(
            admin_url(Order, "save_draft", draft.pk), editor_post((sku, "1"), address=address)
        )
        assert response.status_code in (200, 302), repr(sku)
    page = client.get(admin_url(Order, "add"), {"q": "ada\x00love"})
    assert page.status_code == 200


@pytest.mark.parametrize("sku", ["NOPE-1", "=HYPERLINK(1)", "x" * 64, "' OR 1=1 --"])
def test_editor_names_an_unknown_product(client, desk, sku):
    customer, _, draft = desk

    response = client.post(
        admin_url(Order, "place", draft.pk), editor_post((sku, "1"), address=customer.addresses.get().pk)
    )

    assert response.status_code == 200
    assert "No product has the SKU" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == OrderStatus.DRAFT and not draft.lines.exists()


def test_editor_refuses_an_address_of_another_customer_and_too_many_rows(client, desk):
    customer, _, draft = desk
    stranger = AddressFactory()

    wrong = client.post(
        admin_url(Order, "place", draft.pk), editor_post(("TEA-POT", "1"), address=stranger.pk)
    )
    huge = client.post(
        admin_url(Order, "save_draft", draft.pk),
        {
            **editor_post(("TEA-POT", "1"), address=customer.addresses.get().pk),
            "lines-TOTAL_FORMS": "1000000",
        },
    )
    broken = client.post(admin_url(Order, "save_draft", draft.pk), {"lines-TOTAL_FORMS": "x"})

    assert wrong.status_code == 200 and "Select a valid choice" in wrong.content.decode()
    assert huge.status_code == 200
    assert broken.status_code == 200
    draft.refresh_from_db()
    assert draft.status == OrderStatus.DRAFT and not draft.lines.exists()


def test_operation_pages_of_an_order_that_does_not_exist_are_404(client, desk):
    client.logout()
    log_in(client, MANAGER)
    for name in ["place", "save_draft", "edit", "record_payment"]:
        for pk in ["999999", "abc", "99999999999999999999999"]:
            assert client.get(f"/admin/orders/order/{pk}/{name.replace('_', '-')}/").status_code == 404


def test_a_placed_order_cannot_be_placed_again_nor_a_draft_edited(client, desk):
    customer, product, draft = desk
    address = customer.addresses.get().pk
    placed = client.post(admin_url(Order, "place", draft.pk), editor_post(("TEA-POT", "1"), address=address))
    assert placed.status_code == 302

    again = client.post(admin_url(Order, "place", draft.pk), editor_post(("TEA-POT", "3"), address=address))
    other = order_services.order_draft_create(customer=customer)
    edit_draft = client.post(admin_url(Order, "edit", other.pk), editor_post(("TEA-POT", "3")))

    assert again.status_code == 200 and "not a draft" in again.content.decode()
    assert edit_draft.status_code == 200 and "cannot be edited" in edit_draft.content.decode()
    assert Stock.objects.get(pk=product.pk).allocated == 1


def test_a_draft_is_discarded_from_its_delete_page(client, desk):
    _, _, draft = desk

    response = client.post(admin_url(Order, "delete", draft.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Order.objects.filter(pk=draft.pk).exists()


# Recording a payment


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"amount": "100000000000000000000", "paid_with": "offline:cash"}, "from 0.01 to 99,999,999.99"),
        ({"amount": "-1", "paid_with": "offline:cash"}, "from 0.01 to 99,999,999.99"),
        ({"amount": "=1+1", "paid_with": "offline:cash"}, "must be an amount"),
        ({"amount": "1.00", "paid_with": "offline:bitcoin"}, "Select a valid choice"),
        ({"amount": "1.00", "paid_with": "saved:999999"}, "Select a valid choice"),
        ({"amount": "1.00", "paid_with": "offline:cash", "reference": "4111 1111 1111 1111"}, "card number"),
        ({"amount": "99999.00", "paid_with": "offline:cash"}, "left to pay"),
    ],
)
def test_record_payment_refuses_bad_input_and_records_nothing(client, desk, fields, message):
    customer, product, _ = desk
    client.logout()
    log_in(client, MANAGER)
    order = order_services.order_place(customer=customer, lines=[(product, 1)])

    response = client.post(admin_url(Order, "record_payment", order.pk), fields)

    assert response.status_code == 200
    page = response.content.decode() + " ".join(messages_of(response))
    assert message in page
    assert not Payment.objects.filter(order=order).exists()


def test_part_payments_add_up_to_paid(client, desk):
    customer, product, _ = desk
    client.logout()
    log_in(client, MANAGER)
    order = order_services.order_place(customer=customer, lines=[(product, 1)])  # 19.99 + 7.50
    url = admin_url(Order, "record_payment", order.pk)

    assert client.get(url).context["form"].initial["amount"] == order.total
    client.post(url, {"amount": "10.00", "paid_with": "offline:cheque", "reference": "CHQ 001"})
    assert str(client.get(url).context["form"].initial["amount"]) == "17.49"
    client.post(url, {"amount": "17.49", "paid_with": "offline:cash"})

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert sorted(order.payments.values_list("offline_method", "amount")) == sorted(
        [("cheque", order.total - 17 - order.total + 27), ("cash", order.total - 10)]
    )


# What the pages cost


def _statements(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, url
    return len(queries)


def _grow(count: int) -> None:
    product_type = ProductFactory().product_type
    for n in range(count):
        customer = CustomerFactory(
            first_name="Ann", last_name=f"Lovelock{n:03d}", email=f"ann{n}@example.com"
        )
        AddressFactory(customer=customer)
        PaymentMethodFactory(customer=customer)
        ProductFactory(name=f"Teapot {n:03d}", sku=f"TEA-{n:05d}", product_type=product_type, stock=3)


@pytest.mark.parametrize(
    "url, params",
    [
        (CUSTOMERS_URL, {"q": "love"}),
        (CUSTOMERS_URL, {"q": "ada@example.com"}),
        (CUSTOMERS_URL, {"q": "503 555 0100"}),
        (PRODUCTS_URL, {"q": "teap"}),
        (PRODUCTS_URL, {"q": "TEA-POT"}),
    ],
)
def test_searches_cost_the_same_statements_with_many_rows(client, desk, url, params):
    client.get(url, params)  # warm the session and permission caches
    few = _statements(client, url, params)

    _grow(40)
    many = _statements(client, url, params)

    assert many == few
    # Session, user, the user's and the role's permissions, the search (an exact SKU: two).
    assert many <= 6


@pytest.mark.parametrize("name", ["place", "edit"])
def test_editor_page_costs_the_same_statements_with_many_rows(client, desk, name):
    customer, product, draft = desk
    others = [ProductFactory(stock=50) for _ in range(3)]
    if name == "place":
        order = draft
        order_services.order_draft_set_lines(order=order, lines=[(product, 1), (others[0], 2)])
    else:
        order = order_services.order_place(customer=customer, lines=[(product, 1), (others[0], 2)])
    url = admin_url(Order, name, order.pk)
    client.get(url)
    few = _statements(client, url)

    _grow(20)
    for _ in range(20):
        AddressFactory(customer=customer)
        PaymentMethodFactory(customer=customer)
    lines = [(product, 1), *((p, 1) for p in others)]
    if name == "place":
        order_services.order_draft_set_lines(order=order, lines=lines)
    else:
        order_services.order_edit(order=order, lines=lines)
    many = _statements(client, url)

    assert many == few
    assert many <= 12


def test_new_order_from_the_customer_page_offers_that_customer(client, desk):
    customer, _, _ = desk

    page = client.get(admin_url(Customer, "change", customer.pk)).content.decode()
    start = client.get(admin_url(Order, "add"), {"customer": customer.pk})
    nobody = client.get(admin_url(Order, "add"), {"customer": "=1+1"})

    assert f"{admin_url(Order, 'add')}?customer={customer.pk}" in page
    assert [c.pk for c in start.context["found"]] == [customer.pk]
    assert f'name="customer" value="{customer.pk}"' in start.content.decode()
    assert nobody.status_code == 200 and nobody.context["found"] is None


def test_a_draft_page_says_when_it_was_started_and_nothing_of_shipping_or_payment(client, desk):
    _, product, draft = desk
    order_services.order_draft_set_lines(order=draft, lines=[(product, 2)])

    response = client.get(admin_url(Order, "change", draft.pk))

    html = response.content.decode()
    names = [name for name, _ in response.context["adminform"].fieldsets]
    assert "Ships to" not in names and "Paid with" not in names
    assert "Started at" in html and "Placed at" not in html
    assert admin_url(Order, "place", draft.pk) in html  # the editor
    assert admin_url(Order, "delete", draft.pk) in html
    assert admin_url(Order, "cancel", draft.pk) not in html
    assert admin_url(Order, "record_payment", draft.pk) not in html


def test_an_expired_card_is_not_offered_for_an_order_or_a_payment(client, desk):
    customer, product, draft = desk
    expired = PaymentMethodFactory(customer=customer, last4="0001", exp_month=1, exp_year=2020)
    order = order_services.order_place(customer=customer, lines=[(product, 1)])
    client.logout()
    log_in(client, MANAGER)

    editor = client.get(admin_url(Order, "place", draft.pk)).context["form"]
    payment = client.get(admin_url(Order, "record_payment", order.pk)).context["form"]

    assert expired not in editor.fields["payment_method"].queryset
    assert editor.fields["payment_method"].queryset.count() == 1
    assert f"saved:{expired.pk}" not in payment.methods


def test_desk_pages_cost_the_same_statements_at_demo_size_and_beyond(client, settings):
    """The demo data (`loaddata demo`), then 40 more customers, products and orders' worth of rows:
    the searches and a placed order's editor send the same statements."""
    from django.core.management import call_command

    call_command("loaddata", "demo", verbosity=0)
    log_in(client, CUSTOMER_SERVICE)
    john = Customer.objects.get(email="john.doe@example.com")
    order = Order.objects.filter(status=OrderStatus.PLACED).first()
    pages = [
        (CUSTOMERS_URL, {"q": "doe"}),
        (CUSTOMERS_URL, {"q": john.email}),
        (PRODUCTS_URL, {"q": order.lines.first().product.name[:4]}),
        (admin_url(Order, "edit", order.pk), {}),
    ]
    for url, params in pages:
        client.get(url, params)
    demo = [_statements(client, url, params) for url, params in pages]

    _grow(40)
    grown = [_statements(client, url, params) for url, params in pages]

    assert grown == demo


def test_a_draft_is_saved_without_an_address_and_placing_it_says_there_is_none(client, desk):
    _, product, _ = desk
    homeless = CustomerFactory(first_name="Nomad", last_name="Walker")
    draft = order_services.order_draft_create(customer=homeless)

    saved = client.post(admin_url(Order, "save_draft", draft.pk), editor_post(("TEA-POT", "1")))
    page = client.get(admin_url(Order, "place", draft.pk)).content.decode()
    refused = client.post(admin_url(Order, "place", draft.pk), editor_post(("TEA-POT", "1")))

    assert saved.status_code == 302
    assert "has no saved address" in page
    assert refused.status_code == 200
    assert "no default shipping address" in refused.content.decode()
    draft.refresh_from_db()
    assert draft.status == OrderStatus.DRAFT
    assert Stock.objects.get(pk=product.pk).allocated == 0


def test_a_draft_row_asking_for_more_than_is_available_is_marked(client, desk):
    _, product, draft = desk
    order_services.order_draft_set_lines(order=draft, lines=[(product, 7)])  # 5 on hand

    response = client.get(admin_url(Order, "place", draft.pk))

    rows = [row for row in response.context["form"].rows() if row["product"] is not None]
    assert [(row["sku"], row["available"], row["short"]) for row in rows] == [("TEA-POT", 5, True)]
    assert "desk-short" in response.content.decode()
