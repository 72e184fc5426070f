from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Low-level helpers every app uses (money, database, admin machinery); imports no app."""

    name = "shop.core"
    label = "shop_core"
    verbose_name = "Shop helpers"
