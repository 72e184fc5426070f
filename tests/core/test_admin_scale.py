"""The admin's scale defaults (shop.core.admin_perf, admin_search, admin_indexes) and the
crawler's plan verdict (bench.crawl)."""

import pytest
from django.contrib import admin
from django.db import connection

from bench.crawl import whole_table_reads
from customers.models import Address, Customer
from orders.models import Order, OrderLine
from payments.models import Payment
from shop.core import admin_search
from shop.core.admin_indexes import ensure_indexes, index_statements
from shop.core.admin_perf import DistinctValuesFilter, ScaleModelAdmin
from shop.core.admin_search import indexed_search
from tests.factories import (
    AddressFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    PaymentFactory,
    ProductFactory,
    ShipmentFactory,
)

pytestmark = pytest.mark.django_db


def test_every_registered_admin_gets_the_scale_defaults():
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, ScaleModelAdmin), model
        mro = type(model_admin).__mro__
        # Just above Django's ModelAdmin: every class's own declarations win over the defaults.
        assert mro[mro.index(ScaleModelAdmin) + 1] is admin.ModelAdmin, model
        assert model_admin.show_facets == admin.ShowFacets.NEVER


def test_a_whole_unique_key_finds_that_row_only():
    wanted = OrderFactory(number="SO-000777")
    OrderFactory(number="SO-0007770")  # contains it, but the whole key matched

    found = indexed_search(Order.objects.all(), "SO-000777", ["number", "customer__email"])

    assert list(found) == [wanted]


def test_words_must_each_match_some_field_across_relations():
    smith = CustomerFactory(first_name="Anna", last_name="Smithson")
    jones = CustomerFactory(first_name="Anna", last_name="Jones")
    for customer in (smith, jones):
        AddressFactory(customer=customer, city="Springfield")
    fields = ["city", "customer__first_name", "customer__last_name"]

    assert set(indexed_search(Address.objects.all(), "anna SMITH", fields)) == set(smith.addresses.all())
    assert indexed_search(Address.objects.all(), "anna", fields).count() == 2
    assert indexed_search(Address.objects.all(), "anna nobody", fields).count() == 0
    assert indexed_search(Address.objects.all(), '"springfield"', fields).count() == 2


def test_search_reaches_rows_pointing_back_and_two_relations_away():
    order = OrderFactory()
    ShipmentFactory(order=order, tracking_number="1Z999AA10123456784")
    ShipmentFactory(order=OrderFactory())
    payment = PaymentFactory(order=order)
    PaymentFactory(order=OrderFactory())

    by_tracking = indexed_search(Order.objects.all(), "AA1012345", ["shipment__tracking_number"])
    by_email = indexed_search(Payment.objects.all(), order.customer.email, ["order__customer__email"])

    assert list(by_tracking) == [order]  # listed once, though the relation is many-valued
    assert list(by_email) == [payment]


def test_search_prefixes_keep_their_meaning():
    CustomerFactory(last_name="Smith")
    CustomerFactory(last_name="Goldsmith")

    assert indexed_search(Customer.objects.all(), "smi", ["^last_name"]).count() == 1
    assert indexed_search(Customer.objects.all(), "SMITH", ["=last_name"]).count() == 1
    assert indexed_search(Customer.objects.all(), "smith", ["last_name"]).count() == 2


def test_search_across_a_relation_is_bounded(monkeypatch):
    monkeypatch.setattr(admin_search, "SEARCH_BOUND", 3)
    product = ProductFactory(name="Lantern")
    for _ in range(5):
        OrderLineFactory(order=OrderFactory(), product=product, product_name="Lantern")

    found = indexed_search(OrderLine.objects.all(), "TEST-", ["order__number"])

    assert found.count() == 3


def test_a_text_term_against_a_number_field_finds_nothing_instead_of_failing():
    OrderFactory()

    assert indexed_search(Order.objects.all(), "not-a-number", ["=id"]).count() == 0


def test_every_value_filter_lists_what_django_lists(admin_client):
    for currency in ["USD", "EUR", "USD", "GBP"]:
        PaymentFactory(currency=currency)

    response = admin_client.get("/admin/payments/payment/")

    spec = next(s for s in response.context["cl"].filter_specs if getattr(s, "field_path", "") == "currency")
    assert isinstance(spec, DistinctValuesFilter)
    assert list(spec.lookup_choices) == ["EUR", "GBP", "USD"]
    filtered = admin_client.get("/admin/payments/payment/", {"currency": "EUR"})
    assert [p.currency for p in filtered.context["cl"].result_list] == ["EUR"]


def test_index_list_follows_the_registry():
    statements = index_statements(admin.site, connection.ops.quote_name)
    definitions = {definition for _, _, definition, _ in statements.values()}

    qn = connection.ops.quote_name
    event_table = qn("orders_orderevent")
    assert f"ON {event_table} ({qn('kind')}, {qn('created_at')} DESC, {qn('id')} DESC)" in definitions
    trigram = f"ON {qn('customers_customer')} USING gin ((UPPER({qn('last_name')}::text)) gin_trgm_ops)"
    assert trigram in definitions
    assert len(statements) == len(set(statements))


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the admin's indexes are PostgreSQL's")
def test_indexes_exist_after_migrate_and_a_partial_word_search_uses_one():
    assert ensure_indexes(admin.site) == []  # migrate made them all
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # on a few rows the planner would scan
        cursor.execute(
            "EXPLAIN SELECT id FROM customers_customer WHERE UPPER(last_name::text) LIKE UPPER(%s)", ["%mit%"]
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "adm_customers_customer" in plan


def test_verdict_fails_whole_table_reads_only():
    big = {"orders_order": 1_000_000}
    seq = {"Node Type": "Seq Scan", "Relation Name": "orders_order"}
    indexed = {"Node Type": "Index Scan", "Relation Name": "orders_order", "Index Cond": "(id = 1)"}
    first_page = {
        "Node Type": "Limit",
        "Plan Rows": 50,
        "Plans": [{"Node Type": "Index Scan", "Relation Name": "orders_order"}],
    }
    rare_filter = {
        "Node Type": "Limit",
        "Plan Rows": 50,
        "Plans": [
            {"Node Type": "Index Scan", "Relation Name": "orders_order", "Filter": "x", "Plan Rows": 20}
        ],
    }
    sorted_all = {"Node Type": "Limit", "Plan Rows": 50, "Plans": [{"Node Type": "Sort", "Plans": [seq]}]}
    small = {"Node Type": "Seq Scan", "Relation Name": "orders_carrier"}

    assert whole_table_reads(seq, big)
    assert whole_table_reads(rare_filter, big)
    assert whole_table_reads(sorted_all, big)
    assert not whole_table_reads(indexed, big)
    assert not whole_table_reads(first_page, big)
    assert not whole_table_reads(small, big)


def test_an_out_of_range_drill_down_year_is_refused_on_every_list(admin_client):
    lists = [
        (f"/admin/{model._meta.app_label}/{model._meta.model_name}/", model_admin.date_hierarchy)
        for model, model_admin in admin.site._registry.items()
        if model_admin.date_hierarchy
    ]
    assert lists
    for url, field in lists:
        response = admin_client.get(url, {f"{field}__year": str(10**20)})

        # Django's notice for bad lookup parameters (?e=1), as for a month 13; not a 500.
        assert response.status_code == 302, url
        assert response["Location"].endswith("?e=1"), url
