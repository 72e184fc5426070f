"""Helpers for the catalog's tests, and for the tests of the apps that move its stock."""

from catalog.models import Stock


def stock_of(product) -> Stock:
    return Stock.objects.get(pk=product.pk)
