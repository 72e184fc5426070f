"""A lost database connection in a request: a 503 page saying nothing was changed, logged, no 500."""

from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.urls import reverse

from orders.models import Order


@pytest.mark.parametrize("error", [OperationalError("server closed the connection"), InterfaceError("gone")])
def test_a_lost_connection_is_a_503_page_and_logged(admin_client, caplog, error):
    with mock.patch.object(Order.objects, "get_queryset", side_effect=error):
        response = admin_client.get(reverse("admin:orders_order_changelist"))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "The database is not reachable" in page and "Nothing was changed" in page
    assert "server closed" not in page and "Traceback" not in page
    assert any("database unavailable" in record.getMessage() for record in caplog.records)


def test_other_errors_are_left_to_django(admin_client):
    with (
        mock.patch.object(Order.objects, "get_queryset", side_effect=RuntimeError("bug")),
        pytest.raises(RuntimeError),
    ):
        admin_client.get(reverse("admin:orders_order_changelist"))
