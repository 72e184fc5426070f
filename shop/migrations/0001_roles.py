"""Staff roles as groups, so every deployment has them. Each gets only what its work needs."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

INVENTORY = [
    "catalog.view_producttype",
    "catalog.add_producttype",
    "catalog.change_producttype",
    "catalog.view_product",
    "catalog.add_product",
    "catalog.change_product",
    "catalog.view_stock",
    "catalog.receive_stock",
    "catalog.adjust_stock",
    "catalog.view_stockmovement",
]
SHIPPING = [
    "orders.view_order",
    "orders.view_orderline",
    "orders.view_shipment",
    "orders.view_orderevent",
    "orders.ship_order",
    "orders.deliver_order",
]
CUSTOMER_SERVICE = [
    "customers.view_customer",
    "customers.add_customer",
    "customers.change_customer",
    "customers.view_address",
    "customers.add_address",
    "customers.change_address",
    "customers.delete_address",
    "payments.view_paymentmethod",
    "payments.delete_paymentmethod",
    "orders.view_order",
    "orders.view_orderline",
    "orders.view_shipment",
    "orders.view_orderevent",
    "orders.add_orderevent",
    "orders.cancel_order",
]
STORE_MANAGER = sorted(
    set(INVENTORY + SHIPPING + CUSTOMER_SERVICE)
    | {
        "customers.delete_customer",
        "catalog.delete_product",
        "payments.view_payment",
        "payments.refund_payment",
        "orders.view_revenue",
    }
)

ROLES = {
    "Inventory staff": INVENTORY,
    "Shipping staff": SHIPPING,
    "Customer service": CUSTOMER_SERVICE,
    "Store manager": STORE_MANAGER,
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations ran; roles need them now.
    for app_config in apps.get_app_configs():
        # Historical app configs have no models_module, and create_permissions skips an app
        # without one; give it one for the call and put back what was there (a real app
        # registry passed in by a test keeps its modules).
        previous = getattr(app_config, "models_module", None)
        app_config.models_module = previous or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = previous
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("customers", "0001_initial"),
        ("catalog", "0001_initial"),
        ("orders", "0002_initial"),
        ("payments", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
