"""Fulfilment and returns: shipping staff see carriers and what each shipment carried; customer
service takes returns back ("Return items") and sees them; store managers also keep the carriers."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SEE = ["orders.view_carrier", "orders.view_shipmentline"]
RETURNS = ["orders.return_order", "orders.view_return", "orders.view_returnline"]
GRANTS = {
    "Shipping staff": SEE,
    "Customer service": [*SEE, *RETURNS],
    "Store manager": [*SEE, *RETURNS, "orders.add_carrier", "orders.change_carrier"],
}


def _permissions(apps, names):
    Permission = apps.get_model("auth", "Permission")
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations ran; these are needed now.
    app_config = apps.get_app_config("orders")
    previous = getattr(app_config, "models_module", None)
    app_config.models_module = previous or True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = previous
    Group = apps.get_model("auth", "Group")
    for name, perms in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(*_permissions(apps, perms))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, perms in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.remove(*_permissions(apps, perms))


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0005_api_roles"),
        ("orders", "0008_carrier_required"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
