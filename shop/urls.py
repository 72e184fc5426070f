"""URL configuration: the back office is the admin; the site root leads there."""

from django.contrib import admin
from django.urls import path, reverse_lazy
from django.views.generic import RedirectView

from shop.api.api import urls as api_urls

urlpatterns = [
    path("", RedirectView.as_view(url=reverse_lazy("admin:index"), permanent=False)),
    path("admin/", admin.site.urls),
    # The storefront API (README, "Storefront API").
    path("api/v1/", api_urls),
]
