from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ShopConfig(AppConfig):
    """The project package as an app: its templates, migrations (roles) and commands."""

    default = True
    name = "shop"


class ShopAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with the shop's site (and its dashboard) as `admin.site`."""

    default = False
    default_site = "shop.admin_site.ShopAdminSite"
