"""shop.core.db.no_savepoints: a nested operation without its own savepoint."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from shop.core.db import atomic_with_retry, no_savepoints
from shop.core.exceptions import ShopError

pytestmark = pytest.mark.django_db(transaction=True)


@atomic_with_retry
def _create(name, *, refuse=False):
    Customer.objects.create(first_name=name, last_name="Test", email=f"{name}@example.com")
    if refuse:
        raise ShopError("refused")


def _savepoints(captured):
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" in q["sql"].upper()]


def test_a_nested_operation_gets_a_savepoint_and_a_refusal_undoes_only_its_writes():
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        _create("outer")
        with pytest.raises(ShopError):
            _create("inner", refuse=True)
        _create("after")
    if connection.features.uses_savepoints:
        assert _savepoints(captured)
    assert sorted(Customer.objects.values_list("first_name", flat=True)) == ["after", "outer"]


def test_without_savepoints_a_refusal_dooms_the_whole_transaction():
    with CaptureQueriesContext(connection) as captured, pytest.raises(ShopError), transaction.atomic():
        Customer.objects.create(first_name="outer", last_name="Test", email="outer@example.com")
        with no_savepoints():
            _create("inner", refuse=True)
    assert _savepoints(captured) == []
    assert not Customer.objects.exists()


def test_without_savepoints_nothing_more_can_run_after_a_refusal():
    from django.db.transaction import TransactionManagementError

    with pytest.raises(TransactionManagementError), transaction.atomic():
        with no_savepoints(), pytest.raises(ShopError):
            _create("inner", refuse=True)
        Customer.objects.count()
    assert not Customer.objects.exists()


def test_the_switch_ends_with_its_block():
    with transaction.atomic():
        with no_savepoints():
            _create("one")
        with CaptureQueriesContext(connection) as captured:
            _create("two")
    if connection.features.uses_savepoints:
        assert _savepoints(captured)
