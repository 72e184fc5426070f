"""Inventory staff and store managers may change low-stock thresholds (catalog.change_stock).

The stock row's quantities stay read-only on every page (they change only through the stock
services and their ledger); the threshold is the one column that permission lets staff change,
on the stock and product pages or with the "Set low-stock threshold" operation, each change
written to the admin history.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {"Inventory staff": ["change_stock"], "Store manager": ["change_stock"]}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations ran; this one is needed now.
    app_config = apps.get_app_config("catalog")
    previous = getattr(app_config, "models_module", None)
    app_config.models_module = previous or True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = previous
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(
                *Permission.objects.filter(content_type__app_label="catalog", codename__in=codenames)
            )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="catalog", codename="change_stock")
    for group in Group.objects.filter(name__in=GRANTS):
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0002_anonymize_role"),
        ("catalog", "0002_bounds"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
