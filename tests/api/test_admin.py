"""API keys in the admin: store managers list them (scopes, last use) and revoke them."""

import pytest

from shop.api.models import ApiKey
from tests.admin_support import (
    CUSTOMER_SERVICE,
    INVENTORY,
    MANAGER,
    SHIPPING,
    admin_url,
    confirm_action,
    log_in,
    messages_of,
    start_action,
)
from tests.api.conftest import Api, assert_problem

pytestmark = pytest.mark.django_db


def test_managers_list_keys_with_scopes_and_never_see_the_key(client, make_key):
    row, key = make_key("web shop", scopes=["catalog:read", "orders:write"])
    log_in(client, MANAGER)
    page = client.get(admin_url(ApiKey, "changelist"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "web shop" in text and "catalog:read, orders:write" in text and row.prefix in text
    assert key not in text and row.key_hash not in text
    assert client.get(admin_url(ApiKey, "add")).status_code == 403  # keys come from api_key_create


@pytest.mark.parametrize("role", [INVENTORY, SHIPPING, CUSTOMER_SERVICE])
def test_other_roles_cannot_see_or_revoke_keys(client, make_key, role):
    row, _ = make_key()
    log_in(client, role)
    assert client.get(admin_url(ApiKey, "changelist")).status_code == 403
    assert client.post(admin_url(ApiKey, "revoke", row.pk)).status_code == 403
    row.refresh_from_db()
    assert row.revoked_at is None


def test_a_manager_revokes_a_key_and_it_gets_401(client, make_key):
    row, key = make_key()
    log_in(client, MANAGER)
    page = client.get(admin_url(ApiKey, "revoke", row.pk))
    assert page.status_code == 200
    response = client.post(admin_url(ApiKey, "revoke", row.pk), follow=True)
    assert "API key storefront revoked." in messages_of(response)
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert_problem(Api(client, key).get("/products"), 401, "invalid_api_key")


def test_revoking_a_selection_names_the_already_revoked(client, make_key):
    first, _ = make_key("first")
    second, _ = make_key("second")
    ApiKey.objects.filter(pk=second.pk).update(revoked_at="2026-01-01T00:00:00Z")
    log_in(client, MANAGER)
    page = start_action(client, ApiKey, "revoke_selected", [first, second])
    confirm_action(client, page)
    first.refresh_from_db()
    assert first.revoked_at is not None
