"""Customer service and store managers may anonymize customers (erasure requests)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {"Customer service": ["anonymize_customer"], "Store manager": ["anonymize_customer"]}


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations ran; this one is needed now.
    app_config = apps.get_app_config("customers")
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
                *Permission.objects.filter(content_type__app_label="customers", codename__in=codenames)
            )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="customers", codename="anonymize_customer")
    for group in Group.objects.filter(name__in=GRANTS):
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0001_roles"),
        ("customers", "0002_anonymize_permission"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
