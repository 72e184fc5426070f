from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class BackofficeConfig(AppConfig):
    """The back-office site over every app: admin site, dashboard, integrity checks."""

    default = True
    name = "shop.backoffice"
    label = "backoffice"
    verbose_name = "Back office"


class ShopAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with the shop's site (and its dashboard) as `admin.site`."""

    default = False
    default_site = "shop.backoffice.admin_site.ShopAdminSite"
