"""Storefront API keys: store managers list them, change their scopes and revoke them (keys are
created with `manage.py api_key_create`, which shows the key once)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {"Store manager": ["api.view_apikey", "api.change_apikey", "api.revoke_apikey"]}


def _permissions(apps, names):
    Permission = apps.get_model("auth", "Permission")
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations ran; these are needed now.
    app_config = apps.get_app_config("api")
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
        ("shop", "0004_order_desk_roles"),
        ("api", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
