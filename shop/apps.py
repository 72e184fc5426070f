from django.apps import AppConfig


class ShopConfig(AppConfig):
    """The project package as an app: its migrations (the staff roles)."""

    default = True
    name = "shop"
