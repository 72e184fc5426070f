"""The carriers every new database starts with (a store manager edits them in the admin).

`seed_standard_carriers` runs after `migrate` and after a test database is flushed: it adds them
only to an empty carrier table, so carriers a manager removed or renamed stay as they are.
"""

from django.db import DEFAULT_DB_ALIAS

# (code, name, tracking link pattern, tracked)
STANDARD_CARRIERS = (
    ("ups", "UPS", "https://www.ups.com/track?tracknum={tracking_number}", True),
    ("usps", "USPS", "https://tools.usps.com/go/TrackConfirmAction?tLabels={tracking_number}", True),
    ("fedex", "FedEx", "https://www.fedex.com/fedextrack/?trknbr={tracking_number}", True),
    ("dhl", "DHL", "https://www.dhl.com/en/express/tracking.html?AWB={tracking_number}", True),
    (
        "royal-mail",
        "Royal Mail",
        "https://www.royalmail.com/track-your-item#/tracking-results/{tracking_number}",
        True,
    ),
    ("courier", "Local courier", "", False),
)


def seed_standard_carriers(*, using=DEFAULT_DB_ALIAS, apps=None, **kwargs) -> int:
    """Add the standard carriers if there are none; return how many were added. As a
    post_migrate receiver it gets the migrated state's `apps`: migrated back to before the
    carrier table existed, there is nothing to do."""
    if apps is None:
        from django.apps import apps
    try:
        Carrier = apps.get_model("orders", "Carrier")
    except LookupError:
        return 0
    carriers = Carrier.objects.using(using)
    if carriers.exists():
        return 0
    carriers.bulk_create(
        Carrier(code=code, name=name, tracking_url=url, tracked=tracked)
        for code, name, url, tracked in STANDARD_CARRIERS
    )
    return len(STANDARD_CARRIERS)
