"""Reads of orders."""

import re

from django.db import connection
from django.db.models import Q, QuerySet

from catalog.models import Product
from customers.models import Customer
from orders.models import Order, Shipment
from shop.core.admin_search import SEARCH_BOUND

_ORDER_NUMBER = re.compile(r"^(?:SO-?)?(\d{1,12})$", re.IGNORECASE)
# Carriers' tracking numbers: letters and digits, at least one digit, no spaces.
_TRACKING = re.compile(r"^(?=.*\d)[A-Z0-9-]{6,40}$", re.IGNORECASE)


# What order_search looks in, by the admin's search field names.
ORDER_SEARCH_FIELDS = (
    "number",
    "customer__email",
    "customer__first_name",
    "customer__last_name",
    "shipment__tracking_number",
)


def order_search(queryset: QuerySet, term: str, *, fields=ORDER_SEARCH_FIELDS) -> QuerySet:
    """Orders matching what staff type in a search box, each kind of term through an index.

    An order number (`SO-000123`, `123`) or a tracking number (of any of the order's shipments)
    matches exactly; an email matches the customer's email regardless of case; anything else
    matches customers' names and emails word by word. Each branch first finds the few matching
    keys by an indexed lookup, so the cost does not grow with the number of orders; only when
    nothing matches exactly does it look for the term inside numbers and emails.

    `fields` (of ORDER_SEARCH_FIELDS) are what may be searched: without `customer__email` (staff
    who may not see customers' details) no branch reads an email.
    """
    fields = set(fields)
    by_email = "customer__email" in fields
    term = term.strip()
    if not term:
        return queryset
    if "@" in term and " " not in term:
        if not by_email:
            return queryset.none()
        customers = Customer.objects.filter(email_key=term.lower())
        if not customers.exists():
            customers = Customer.objects.filter(email__icontains=term)
        return queryset.filter(customer_id__in=_newest_keys(customers))
    number = _ORDER_NUMBER.match(term) if "number" in fields else None
    tracking = "shipment__tracking_number" in fields
    if number or (tracking and _TRACKING.match(term)):
        ids = set()
        if tracking:
            ids.update(Shipment.objects.filter(tracking_number=term).values_list("order_id", flat=True))
        if number:
            ids.update(
                Order.objects.filter(number=f"SO-{int(number.group(1)):06d}").values_list("pk", flat=True)
            )
        if not ids:
            # Part of a number: slower (no index can help), but only when nothing matched exactly.
            if tracking:
                shipments = Shipment.objects.filter(tracking_number__icontains=term)
                ids.update(shipments.values_list("order_id", flat=True)[:1000])
            if "number" in fields:
                ids.update(Order.objects.filter(number__icontains=term).values_list("pk", flat=True)[:1000])
        return queryset.filter(pk__in=ids)
    names = [name for name in ("first_name", "last_name", "email") if f"customer__{name}" in fields]
    if not names:
        return queryset.none()
    customers = Customer.objects.all()
    for word in term.split():
        condition = Q()
        for name in names:
            condition |= Q(**{f"{name}__icontains": word})
        customers = customers.filter(condition)
    return queryset.filter(customer_id__in=_newest_keys(customers))


def _newest_keys(customers: QuerySet) -> list[int]:
    """The matching customers' keys, as a list: the orders are then an index lookup per key.
    (As a subquery, PostgreSQL joins it against every order.) SEARCH_BOUND of them at most."""
    return list(customers.order_by().values_list("pk", flat=True)[:SEARCH_BOUND])


# The order desk's searches (the admin's "Add order" and line editor). Each answers a handful of
# rows through an index, whatever the size of the tables: the autocomplete asks on every key.

DESK_RESULTS = 10  # rows an autocomplete shows; one more is read to say "more match"
DESK_CANDIDATES = 200  # matches a search reads at most, to sort them
_PHONE_TERM = re.compile(r"^[\d\s()+.-]+$")
_HIGHEST = chr(0x10FFFF)  # sorts after every character in PostgreSQL's code point order (C collation)


def _prefix(field: str, text: str, variants=()) -> Q:
    """Values of `field` starting with `text`, as a condition an index on `field` can answer.

    MariaDB (case-insensitive collation) and SQLite compare `LIKE 'text%'` without case, and
    MariaDB reads it as an index range. PostgreSQL only reads `UPPER(field) LIKE` by scanning,
    so there it is a range per spelling (`variants`: "smith", "Smith", "SMITH"), each an index
    range scan; the `startswith` beside the range keeps the result exact under any collation.
    """
    if connection.vendor != "postgresql":
        return Q(**{f"{field}__istartswith": text})
    condition = Q()
    for spelling in dict.fromkeys([text, *variants]):
        condition |= Q(
            **{
                f"{field}__gte": spelling,
                f"{field}__lt": spelling + _HIGHEST,
                f"{field}__startswith": spelling,
            }
        )
    return condition


def _search_term(term, length: int) -> str:
    """What was typed, as one line of printable text (PostgreSQL refuses a NUL in a string)."""
    printable = "".join(char if char.isprintable() else " " for char in str(term or "")[: length * 4])
    return " ".join(printable.split())[:length]


def _spellings(word: str) -> list[str]:
    return [word, word.lower(), word.capitalize(), word.title(), word.upper()]


def desk_search_term(term) -> str:
    """The customer search's term as the page shows it back."""
    return _search_term(term, 254)


def _first(queryset, limit: int, key) -> list:
    """The first `limit` + 1 rows by `key`, out of at most DESK_CANDIDATES matches.

    The statement itself is unordered: with an ORDER BY and a LIMIT, MariaDB walks the whole name
    index in order and filters each row (seconds at 100,000 customers when few match), while
    without one both databases merge the index ranges of the conditions and stop at the limit.
    The candidates are sorted here; when DESK_CANDIDATES match, the list says more match and
    staff type more.
    """
    return _candidates(queryset, limit, key)[0]


def _candidates(queryset, limit: int, key) -> tuple[list, bool]:
    """`_first`, and whether DESK_CANDIDATES matched (so that some were not read)."""
    rows = list(queryset.order_by()[:DESK_CANDIDATES])
    rows.sort(key=key)
    return rows[: limit + 1], len(rows) == DESK_CANDIDATES


def _by_name(customer):
    return (customer.last_name.lower(), customer.first_name.lower(), customer.pk)


def desk_customer_search(term: str, *, limit: int = DESK_RESULTS) -> list[Customer]:
    """Customers for the order desk's search box: by email, phone or name, at most `limit` + 1.

    - an email (with "@"): the lower-cased email key, exact or as a prefix (its unique index);
    - a phone number (digits, spaces, + ( ) . -, at least 4 digits): the stored digits contain it
      (phones are stored as +12025550123 and shown as (202) 555-0123; no index, a bounded scan);
    - words: each word starts the first name, the last name or the email; the rows come from the
      name index (last name) and the email index, so "smi", "john smith" and "jane.s" are index
      ranges. Only when that finds nothing does it look for the words inside names and emails
      (a scan that stops at the first matches).
    Anonymized customers are left out: no one orders for them.
    """
    term = _search_term(term, 254)
    if len(term) < 2:
        return []
    customers = Customer.objects.filter(anonymized_at__isnull=True).only(
        "id", "first_name", "last_name", "email", "phone"
    )
    if "@" in term and " " not in term:
        email = term.lower()
        return list(customers.filter(_prefix("email_key", email)).order_by("email_key", "id")[: limit + 1])
    digits = re.sub(r"\D", "", term)
    if _PHONE_TERM.match(term) and len(digits) >= 4:
        return _first(customers.filter(phone__contains=digits), limit, _by_name)
    words = term.split()[:4]
    by_index = Q()
    for word in words:
        by_index |= _prefix("last_name", word, _spellings(word)) | _prefix("email_key", word.lower())
    matched = customers.filter(by_index)
    for word in words:
        matched = matched.filter(
            Q(first_name__istartswith=word) | Q(last_name__istartswith=word) | Q(email__istartswith=word)
        )
    found = _first(matched, limit, _by_name)
    if found:
        return found
    inside = customers
    for word in words:
        inside = inside.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
    return _first(inside, limit, _by_name)


def desk_product_search(term: str, *, limit: int = DESK_RESULTS) -> list:
    """Active products for the order desk's line editor, by SKU or name, with their stock row.

    An exact SKU first (its unique index), then SKUs and names starting with the term (their
    indexes), then names containing it (a scan of the catalog that stops at the first matches)
    only when nothing starts with it. At most `limit` + 1 products, each with `stock` selected.
    """
    term = _search_term(term, 200)
    if not term:
        return []
    products = (
        Product.objects.active()
        .select_related("stock")
        .only(
            "id",
            "name",
            "sku",
            "price",
            "currency",
            "stock__on_hand",
            "stock__allocated",
            "stock__low_stock_threshold",
        )
    )
    sku = term.upper()

    def key(product):
        return (product.sku != sku, product.name.lower(), product.pk)  # the exact SKU first

    starting = products.filter(_prefix("sku", sku) | _prefix("name", term, _spellings(term)))
    found, truncated = _candidates(starting, limit, key)
    if truncated and found[0].sku != sku:
        # Very many start with the term: the one whose SKU it is may not be among those read.
        exact = list(products.filter(sku=sku)[:1])
        found = (exact + [p for p in found if p.sku != sku])[: limit + 1]
    if found:
        return found
    return _first(products.filter(name__icontains=term), limit, key)
