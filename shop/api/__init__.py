"""The storefront API (django-ninja), mounted at /api/v1/: see README, "Storefront API"."""
