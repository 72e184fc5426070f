"""Bench-only URLconf: the shop's admin at admin/ and the plain-ModelAdmin baseline at baseline/."""

from django.contrib import admin
from django.urls import path

from bench.baseline_admin import baseline_site

urlpatterns = [
    path("admin/", admin.site.urls),
    path("baseline/", baseline_site.urls),
]
