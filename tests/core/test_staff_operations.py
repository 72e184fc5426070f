"""Every staff operation of every admin, from the site's registry: what the mechanism promises.

A new operation is covered here without anyone adding it: its page answers 404 for an id that is
not a row, 403 for a staff member without its permission (page and list action), and renders
from the template chain model -> app -> shared.
"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.template.loader import select_template
from django.urls import reverse

from shop.core.admin_operations import StaffOperationsMixin
from tests.factories import UserFactory

OPERATIONS = [
    (model_admin, operation)
    for model_admin in admin.site._registry.values()
    if isinstance(model_admin, StaffOperationsMixin)
    for operation in model_admin.operations
]
IDS = [f"{ma.opts.label_lower}.{op.name}" for ma, op in OPERATIONS]
WRONG_IDS = ["abc", "999999", "-1", "1.5", "%20", "99999999999999999999999"]


def test_the_operations_of_the_back_office_are_all_found():
    names = {f"{ma.opts.label_lower}.{op.name}" for ma, op in OPERATIONS}
    assert {
        "catalog.product.receive_stock",
        "catalog.product.adjust_stock",
        "orders.order.ship",
        "orders.order.deliver",
        "orders.order.cancel",
        "orders.order.note",
        "payments.payment.refund",
        "customers.customer.anonymize",
    } <= names


def test_operation_and_action_names_are_unique_per_admin():
    for model_admin in {ma for ma, _ in OPERATIONS}:
        names = [op.name for op in model_admin.operations]
        actions = [op.action for op in model_admin.operations if op.action]
        assert len(names) == len(set(names)), model_admin
        assert len(actions) == len(set(actions)), model_admin
        assert not set(actions) & {name for _, name, _ in model_admin._get_base_actions()}


def _url(model_admin, operation, object_id):
    url = reverse(
        f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_{operation.name}", args=[1]
    )
    return url.replace("/1/", f"/{object_id}/")


@pytest.mark.django_db
@pytest.mark.parametrize(("model_admin", "operation"), OPERATIONS, ids=IDS)
def test_an_id_that_is_no_row_is_a_404(admin_client, model_admin, operation):
    for object_id in WRONG_IDS:
        url = _url(model_admin, operation, object_id)
        assert admin_client.get(url).status_code == 404, url
        assert admin_client.post(url, {"quantity": "1", "amount": "1"}).status_code == 404, url


@pytest.fixture
def viewer(client):
    """Staff who may look at everything and take no operation."""
    user = UserFactory(is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client.force_login(user)
    return user


@pytest.mark.django_db
@pytest.mark.parametrize(("model_admin", "operation"), OPERATIONS, ids=IDS)
def test_staff_without_the_permission_get_a_403(client, viewer, model_admin, operation):
    assert not viewer.has_perm(operation.permission)
    assert client.get(_url(model_admin, operation, 1)).status_code == 403
    assert client.post(_url(model_admin, operation, 1), {}).status_code == 403
    if operation.action:
        changelist = reverse(f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_changelist")
        response = client.post(
            changelist, {"action": operation.action, "_selected_action": ["1"], "apply": "yes"}
        )
        assert response.status_code == 403


@pytest.mark.parametrize(("model_admin", "operation"), OPERATIONS, ids=IDS)
def test_pages_come_from_the_model_then_the_app_then_the_shared_template(model_admin, operation):
    app, model = model_admin.opts.app_label, model_admin.opts.model_name
    for page in ("form", "selected"):
        chain = model_admin._templates(operation, page)
        assert chain == [
            f"admin/{app}/{model}/{operation.name}_{page}.html",
            f"admin/{app}/{model}/operation_{page}.html",
            f"admin/{app}/operation_{page}.html",
            f"admin/shop/operation_{page}.html",
        ]
        assert select_template(chain)  # one of them exists: at least the shared one
