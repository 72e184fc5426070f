"""Realistic data at scale for performance work: the engine behind `manage.py seed_scale`.

What it writes is what the services would have written over two years of trading, without
running them (a million `order_place` calls would take hours):

* customers, each with a default shipping and billing address (some with a second address) and
  one or two payment methods (cards keep brand, last 4, expiry and a gateway token; PayPal only
  its email; never a card number);
* product types and products, each with its stock row;
* orders spread over the history (more recent days busier), 1-5 distinct products each. Each
  order gets a life cycle (paid minutes or hours after placing, shipped a day or two later,
  delivered days after that; a few cancelled before or after payment; PARTIAL_SHARE of the
  shipped ones in two parcels, the second days or up to two weeks later (a back-order), each
  delivered on its own; RETURN_SHARE of the delivered ones sending goods back, one unit or
  everything, restocked or written off as damaged, and refunded) and its status is the last
  step that happened before `now`: old orders are delivered (a few returned), the last days'
  orders are placed, paid, partially shipped or shipped. Every step has its rows, exactly as the
  services write them: OrderEvent per step, a captured Payment (refunded when cancelled after
  payment, in part for a return), Shipments with a standard carrier (orders/carriers.py), a
  tracking number and their lines, Returns with their lines, the lines' shipped and returned
  counters, and stock ledger rows per line (allocation at placing, sale per parcel, release at
  cancelling, "return" for what is restocked);
* one receipt per product ("bulk seed: opening stock"), dated before the history starts and big
  enough for everything sold and still allocated plus what is left on the shelf, so that every
  rule in `shop.backoffice.integrity.find_violations()` holds: on hand and allocated equal their ledger
  sums, allocated equals what open orders hold.

The ledger keeps one row per order line and step, as the services write it, not one aggregated
row per product: about four rows per order, a quarter of all rows, which COPY affords, and the
ledger then reads (and is indexed, and queried) like the real one.

Primary keys are assigned here, from the table's current maximum upwards (so the order number,
derived from the key, is known before the row is written); afterwards the sequences are reset
(`connection.ops.sequence_reset_sql`) so the shop's own inserts carry on after them. Everything
runs in one transaction: an interrupted or refused run leaves the database as it was. Nothing
else should write to the shop's tables while it runs (the keys are taken from MAX(id)).

Counts are targets for the whole table: a second run with bigger numbers adds only the missing
customers, products and orders (the new orders spread over the same history, so order keys follow
time within one run, not across runs; they may go to any customer with a default shipping
address, seeded or not; the products they sell are received again, so availability is unchanged).
The same seed, `now` and starting database give the same rows: each part (customers, products,
orders, stock) draws from its own `random.Random`, seeded with the seed and its first key.

Rows are written in batches by one of three writers (shop/devtools/bulk.py): PostgreSQL's COPY
(psycopg 3), multi-row `executemany` INSERTs, or the ORM's `bulk_create`; see
`seed_scale(method=...)`. The names, places and product words are in
shop/devtools/data/scale_words.py.
"""

import bisect
import datetime
import itertools
import math
import random
import sys
import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import ExpressionWrapper, F, Max
from django.utils import timezone

from catalog.models import Product, ProductType, Stock, StockMovement
from customers.models import Address, Customer
from orders.carriers import STANDARD_CARRIERS
from orders.models import (
    Carrier,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Return,
    ReturnLine,
    Shipment,
    ShipmentLine,
)
from orders.services import order_number_for, shipping_cost_for
from payments.models import Payment, PaymentMethod
from shop.backoffice.integrity import find_violations
from shop.core.money import default_currency
from shop.devtools.bulk import METHODS, Writer
from shop.devtools.bulk import explicit_timestamps as explicit_timestamps  # bench/demo_load.py uses it
from shop.devtools.data import scale_words
from shop.devtools.data.scale_words import (
    CANCEL_AFTER_PAYMENT,
    CANCEL_BEFORE_PAYMENT,
    CARRIERS,
    DAMAGED_REASONS,
    DOMAINS,
    FOREIGN_CITIES,
    PRODUCT_BRANDS,
    PRODUCT_TYPES,
    RETURN_REASONS,
    STREET_SUFFIXES,
    US_CITIES,
)

SEED_NOTE = "bulk seed"
DAY = 86_400
HOUR = 3_600
PARTIAL_SHARE = 0.06  # of shipped orders with more than one unit: two parcels
RETURN_SHARE = 0.03  # of delivered orders: goods sent back
FULL_RETURN_SHARE = 0.2  # of returns: everything (else one unit of one line, all of a one-unit order)
RESTOCK_SHARE = 0.8  # of returns: back on the shelf (else written off as damaged)

# Every model the seed writes, in the order rows must reach a database that checks foreign keys
# at once (MariaDB): whatever a row points to is written before it.
SEEDED_MODELS = [
    Customer,
    Address,
    PaymentMethod,
    ProductType,
    Product,
    Stock,
    Order,
    OrderLine,
    Shipment,
    ShipmentLine,
    Return,
    ReturnLine,
    Payment,
    OrderEvent,
    StockMovement,
]

# The word lists given as text, split once.
FIRST_NAMES = scale_words.FIRST_NAMES.split()
LAST_NAMES = scale_words.LAST_NAMES.split()
STREETS = scale_words.STREETS.split()
AREA_CODES = scale_words.AREA_CODES.split()

# Share of orders placed in each hour of the day (UTC), evenings busiest.
HOUR_WEIGHTS = (2, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 7, 7, 7, 7, 7, 8, 9, 10, 10, 9, 6, 4)
LINE_COUNT_WEIGHTS = (45, 25, 15, 10, 5)  # 1..5 lines
QUANTITY_WEIGHTS = (72, 18, 5, 3, 2)  # 1..5 of a product
BRAND_WEIGHTS = (("visa", 50), ("mastercard", 30), ("amex", 12), ("discover", 8))
BRAND_LABELS = dict(PaymentMethod.Brand.choices)


# Plain strings, not the TextChoices members: a database driver may adapt an Enum by its name.
_STATUS = SimpleNamespace(**{m.name: m.value for m in OrderStatus})
_EVENT = SimpleNamespace(**{m.name: m.value for m in OrderEvent.Kind})
_MOVEMENT = SimpleNamespace(**{m.name: m.value for m in StockMovement.Kind})


def method_label(kind: str, brand: str, last4: str, exp_month, exp_year, paypal_email: str) -> str:
    """`PaymentMethod.label`, from the column values (a model instance per method costs too much).

    The seed tests compare it with the model's own property for every seeded method.
    """
    if kind == PaymentMethod.Kind.PAYPAL:
        return f"PayPal ({paypal_email})"
    expiry = f" exp {exp_month:02d}/{exp_year}" if exp_month and exp_year else ""
    return f"{BRAND_LABELS.get(brand) or 'Card'} •••• {last4}{expiry}"


def _cumulative(weights: Iterable[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def _pick(rng: random.Random, cumulative: Sequence[float]) -> int:
    """Index drawn with the weights behind `cumulative` (faster than rng.choices for one pick)."""
    return bisect.bisect(cumulative, rng.random() * cumulative[-1])


# Hex digits onto a gateway-like alphabet with few digits.
_TOKEN_ALPHABET = str.maketrans("0123456789abcdef", "a2b3c4d5e6f7ghkm")


def _token(rng: random.Random, prefix: str) -> str:
    """A gateway-style token. A letter every 8 characters keeps any run of digits far too short
    to be mistaken for a card number."""
    text = f"{rng.getrandbits(96):024x}".translate(_TOKEN_ALPHABET)
    return f"{prefix}{text[:7]}x{text[8:15]}k{text[16:]}"


# --------------------------------------------------------------------------------------------
# The seed
# --------------------------------------------------------------------------------------------


@dataclass
class SeedReport:
    method: str
    created: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    write_seconds: float = 0.0
    statements: int = 0
    violations: list[str] | None = None  # None: not checked
    check_seconds: float = 0.0
    totals: dict[str, int] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step of the seed

    @property
    def rows(self) -> int:
        return sum(self.created.values())

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass
class _Customer:
    pk: int
    created: int  # epoch seconds
    snapshot: tuple  # name, line1, line2, city, state, postal code, country, phone
    method_id: int | None
    method_label: str


@dataclass
class _Product:
    pk: int
    name: str
    sku: str
    price: Decimal
    old_price: Decimal  # charged before the price rise a year ago


class Progress:
    """One line on stderr: how far, how fast. Silent when `enabled` is false."""

    def __init__(self, enabled: bool, stream=None):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.tty = getattr(self.stream, "isatty", lambda: False)()

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self.began = self.shown = time.perf_counter()
        self.step = max(total // 10, 1)
        self.next_line = self.step

    def advance(self, count: int, rows: int = 0) -> None:
        self.done += count
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.tty and now - self.shown >= 0.5:
            self.stream.write(f"\r{self._line(now)}")
            self.stream.flush()
            self.shown = now
        elif not self.tty and self.next_line <= self.done < self.total:
            self.stream.write(self._line(now) + "\n")
            self.next_line += self.step

    def finish(self) -> None:
        if self.enabled and self.total:
            self.stream.write(("\r" if self.tty else "") + self._line(time.perf_counter()) + "\n")
            self.stream.flush()

    def _line(self, now: float) -> str:
        pct = 100 * self.done / self.total if self.total else 100
        rate = self.done / (now - self.began) if now > self.began else 0
        return f"{self.label}: {self.done:,}/{self.total:,} ({pct:3.0f}%) {rate:,.0f}/s"


class _Ids:
    """The next primary keys of one table, from its current maximum."""

    def __init__(self, model: type[models.Model]):
        self.last = model.objects.aggregate(m=Max("pk"))["m"] or 0

    def take(self, count: int = 1) -> int:
        """Reserve `count` keys; return the first."""
        first = self.last + 1
        self.last += count
        return first


class Seeder:
    def __init__(
        self,
        *,
        customers: int,
        products: int,
        orders: int,
        seed: int,
        now: datetime.datetime,
        days: int,
        writer: Writer,
        progress: Progress,
    ):
        self.targets = {"customers": customers, "products": products, "orders": orders}
        self.phases: dict[str, float] = {}
        self.seed = seed
        self.now = now
        self.now_ts = int(now.timestamp())
        self.days = days
        self.start_ts = self.now_ts - days * DAY
        self.price_rise_ts = self.now_ts - min(365, days // 2) * DAY
        self.writer = writer
        self.progress = progress
        self.currency = default_currency()
        self.ids = {model: _Ids(model) for model in SEEDED_MODELS if model is not Stock}
        self._carriers: list[Carrier] | None = None

        w = writer
        self.customers = w.table(
            Customer, ["id", "first_name", "last_name", "email", "phone", "created_at", "updated_at"]
        )
        self.addresses = w.table(
            Address,
            [
                "id",
                "customer_id",
                "line1",
                "line2",
                "city",
                "state",
                "postal_code",
                "country",
                "is_default_shipping",
                "is_default_billing",
                "created_at",
                "updated_at",
            ],
        )
        self.methods = w.table(
            PaymentMethod,
            [
                "id",
                "customer_id",
                "kind",
                "brand",
                "last4",
                "exp_month",
                "exp_year",
                "holder_name",
                "gateway_token",
                "paypal_email",
                "is_default",
                "created_at",
                "updated_at",
            ],
        )
        self.types = w.table(ProductType, ["id", "name", "description"])
        self.products = w.table(
            Product,
            [
                "id",
                "name",
                "sku",
                "product_type_id",
                "price",
                "currency",
                "is_active",
                "description",
                "created_at",
                "updated_at",
            ],
        )
        self.stock = w.table(
            Stock, ["product_id", "on_hand", "allocated", "low_stock_threshold", "updated_at"]
        )
        self.orders = w.table(
            Order,
            [
                "id",
                "number",
                "customer_id",
                "status",
                "currency",
                "subtotal",
                "shipping_cost",
                "total",
                "shipping_name",
                "shipping_line1",
                "shipping_line2",
                "shipping_city",
                "shipping_state",
                "shipping_postal_code",
                "shipping_country",
                "shipping_phone",
                "payment_method_id",
                "payment_method_label",
                "created_at",
                "updated_at",
                "paid_at",
                "cancelled_at",
            ],
        )
        self.lines = w.table(
            OrderLine,
            [
                "id",
                "order_id",
                "product_id",
                "product_name",
                "sku",
                "unit_price",
                "quantity",
                "line_total",
                "quantity_shipped",
                "quantity_returned",
            ],
        )
        self.shipments = w.table(
            Shipment,
            ["id", "order_id", "carrier_id", "tracking_number", "status", "shipped_at", "delivered_at"],
        )
        self.shipment_lines = w.table(ShipmentLine, ["id", "shipment_id", "order_line_id", "quantity"])
        self.returns = w.table(
            Return,
            [
                "id",
                "order_id",
                "reason",
                "currency",
                "refund_requested",
                "refund_shipping",
                "refunded_amount",
                "actor_id",
                "created_at",
            ],
        )
        self.return_lines = w.table(
            ReturnLine, ["id", "return_record_id", "order_line_id", "quantity", "restocked"]
        )
        self.payments = w.table(
            Payment,
            [
                "id",
                "order_id",
                "method_id",
                "method_label",
                "amount",
                "refunded_amount",
                "currency",
                "status",
                "reference",
                "offline_method",
                "created_at",
                "updated_at",
            ],
        )
        self.events = w.table(
            OrderEvent,
            ["id", "order_id", "kind", "from_status", "to_status", "message", "actor_id", "created_at"],
        )
        self.movements = w.table(
            StockMovement,
            [
                "id",
                "product_id",
                "kind",
                "reason",
                "on_hand_delta",
                "allocated_delta",
                "order_number",
                "actor_id",
                "note",
                "created_at",
            ],
        )

    # -- helpers ---------------------------------------------------------------------------

    def rng(self, part: str, start: int) -> random.Random:
        """An independent stream per part and starting point: adding products does not change
        the customers, and a growing run does not replay the first run's choices."""
        return random.Random(f"{self.seed}:{part}:{start}")

    @staticmethod
    def at(ts: int) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(ts, datetime.UTC)

    def flush_if_full(self) -> None:
        if self.writer.pending() >= self.writer.batch_size * 4:
            self.writer.flush()

    # -- customers -------------------------------------------------------------------------

    def add_customers(self, count: int) -> list[_Customer]:
        first_pk = self.ids[Customer].take(count)
        rng = self.rng("customers", first_pk)
        # A third were already customers when the history starts, the rest signed up during it.
        times = []
        for _ in range(count):
            if rng.random() < 0.35:
                times.append(self.start_ts - int(rng.random() * 120 * DAY))
            else:
                times.append(
                    self.start_ts + int(math.sqrt(rng.random()) * (self.now_ts - self.start_ts - DAY))
                )
        times.sort()
        brand_cum = _cumulative(w for _, w in BRAND_WEIGHTS)
        this_year = self.now.year
        pool = []
        self.progress.start("customers", count)
        for index, created in enumerate(times):
            pk = first_pk + index
            first = FIRST_NAMES[int(rng.random() * len(FIRST_NAMES))]
            last = LAST_NAMES[int(rng.random() * len(LAST_NAMES))]
            local = f"{first}.{last}".lower().replace("'", "")
            email = f"{local}{pk}@{DOMAINS[int(rng.random() * len(DOMAINS))]}"
            phone = ""
            if rng.random() < 0.85:
                area = AREA_CODES[int(rng.random() * len(AREA_CODES))]
                phone = f"+1{area}5550{100 + int(rng.random() * 100):03d}"
            at = self.at(created)
            self.customers.add((pk, first, last, email, phone, at, at))

            home = self._address(rng)
            extra = rng.random() < 0.2
            billing_elsewhere = extra and rng.random() < 0.3
            self.addresses.add((self.ids[Address].take(), pk, *home, True, not billing_elsewhere, at, at))
            if extra:
                later = self.at(min(created + int(rng.random() * 200 * DAY), self.now_ts - HOUR))
                self.addresses.add(
                    (
                        self.ids[Address].take(),
                        pk,
                        *self._address(rng),
                        False,
                        billing_elsewhere,
                        later,
                        later,
                    )
                )

            method_at = self.at(created + 60 + int(rng.random() * 600))
            if rng.random() < 0.7:
                brand = BRAND_WEIGHTS[_pick(rng, brand_cum)][0]
                last4 = f"{int(rng.random() * 10000):04d}"
                month, year = 1 + int(rng.random() * 12), this_year + 1 + int(rng.random() * 5)
                holder = f"{first} {last}".upper()
                method = ("card", brand, last4, month, year, holder, _token(rng, "pm_"), "")
            else:
                method = (
                    "paypal",
                    "",
                    "",
                    None,
                    None,
                    "",
                    "",
                    email if rng.random() < 0.7 else f"{local}@paypal.example",
                )
            method_id = self.ids[PaymentMethod].take()
            self.methods.add((method_id, pk, *method, True, method_at, method_at))
            if rng.random() < 0.15:
                # An old card, replaced by the default one and since expired.
                brand = BRAND_WEIGHTS[_pick(rng, brand_cum)][0]
                old = (
                    "card",
                    brand,
                    f"{int(rng.random() * 10000):04d}",
                    1 + int(rng.random() * 12),
                    this_year - 1 - int(rng.random() * 2),
                    f"{first} {last}".upper(),
                    _token(rng, "pm_"),
                    "",
                )
                self.methods.add((self.ids[PaymentMethod].take(), pk, *old, False, at, at))

            kind, brand, last4, month, year, _, _, paypal = method
            snapshot = (f"{first} {last}", *home, phone)
            pool.append(
                _Customer(
                    pk, created, snapshot, method_id, method_label(kind, brand, last4, month, year, paypal)
                )
            )
            if index % 1000 == 999:
                self.progress.advance(1000)
                self.flush_if_full()
        self.progress.advance(count % 1000)
        self.progress.finish()
        self.writer.finish()
        return pool

    @staticmethod
    def _address(rng: random.Random) -> tuple:
        """line1, line2, city, state, postal code, country."""
        number = 10 + int(rng.random() * 9000)
        name = STREETS[int(rng.random() * len(STREETS))]
        suffix = STREET_SUFFIXES[int(rng.random() * len(STREET_SUFFIXES))]
        street = f"{number} {name} {suffix}"
        line2 = ""
        if rng.random() < 0.25:
            line2 = f"Apt {1 + int(rng.random() * 40)}{'ABCD'[int(rng.random() * 4)]}"
        if rng.random() < 0.04:
            city, state, country, codes = FOREIGN_CITIES[int(rng.random() * len(FOREIGN_CITIES))]
            return street, line2, city, state, codes[int(rng.random() * len(codes))], country
        city, state, prefix = US_CITIES[int(rng.random() * len(US_CITIES))]
        return street, line2, city, state, f"{prefix}{int(rng.random() * 100):02d}", "US"

    def existing_customers(self) -> list[_Customer]:
        """Customers already in the database who could place an order (a default shipping address)."""
        methods = {}
        for row in PaymentMethod.objects.filter(is_default=True).values_list(
            "customer_id", "id", "kind", "brand", "last4", "exp_month", "exp_year", "paypal_email"
        ):
            customer_id, pk, kind, brand, last4, month, year, paypal = row
            if kind == PaymentMethod.Kind.CARD and (year, month) < (self.now.year, self.now.month):
                continue  # expired: order_place would refuse it
            methods[customer_id] = (pk, method_label(kind, brand, last4, month, year, paypal))
        pool = []
        rows = Address.objects.filter(is_default_shipping=True).values_list(
            "customer_id",
            "customer__first_name",
            "customer__last_name",
            # As stored (E.164): the field's own conversion parses every number, slowly.
            ExpressionWrapper(F("customer__phone"), output_field=models.CharField()),
            "customer__created_at",
            "line1",
            "line2",
            "city",
            "state",
            "postal_code",
            "country",
        )
        for pk, first, last, phone, created, *address in rows.order_by("customer_id").iterator(
            chunk_size=10_000
        ):
            method_id, label = methods.get(pk, (None, ""))
            name = f"{first} {last}".strip()
            snapshot = (name, *address[:5], str(address[5]), phone or "")
            pool.append(_Customer(pk, int(created.timestamp()), snapshot, method_id, label))
        return pool

    # -- products --------------------------------------------------------------------------

    def product_types(self) -> dict[str, int]:
        existing = dict(ProductType.objects.values_list("name", "id"))
        for name, description, *_ in PRODUCT_TYPES:
            if name not in existing:
                existing[name] = self.ids[ProductType].take()
                self.types.add((existing[name], name, description))
        self.writer.finish()
        return existing

    def add_products(self, count: int) -> list[tuple[int, int, int]]:
        """Write `count` products; return (pk, created, low-stock threshold) of each."""
        type_ids = self.product_types()
        first_pk = self.ids[Product].take(count)
        rng = self.rng("products", first_pk)
        made = []
        self.progress.start("products", count)
        for index in range(count):
            pk = first_pk + index
            type_name, _, code, (low, high), nouns, variants = PRODUCT_TYPES[
                int(rng.random() * len(PRODUCT_TYPES))
            ]
            noun = rng.choice(nouns.split()).replace("-", " ")
            variant = rng.choice(variants.split()).replace("-", " ")
            brand = rng.choice(PRODUCT_BRANDS)
            name = f"{brand} {noun}, {variant}"
            # Log-uniform prices ending in .99, .95, .50 or .00.
            dollars = int(math.exp(math.log(low) + rng.random() * (math.log(high) - math.log(low))))
            cents = ("0.99", "0.95", "0.50", "0.00")[int(rng.random() * 4)]
            price = Decimal(dollars) + Decimal(cents) - (1 if cents != "0.00" and dollars > 1 else 0)
            created = self.start_ts - DAY - int(rng.random() * 60 * DAY)
            at = self.at(created)
            active = rng.random() >= 0.02
            description = f"{noun} from {brand}, {variant.lower()}. {type_name}."
            self.products.add(
                (
                    pk,
                    name,
                    f"{code}-{pk:06d}",
                    type_ids[type_name],
                    price,
                    self.currency,
                    active,
                    description,
                    at,
                    at,
                )
            )
            made.append((pk, created, 5 if rng.random() < 0.7 else 10))
            if index % 1000 == 999:
                self.progress.advance(1000)
                self.flush_if_full()
        self.progress.advance(count % 1000)
        self.progress.finish()
        self.writer.finish()
        return made

    def sellable_products(self) -> list[_Product]:
        """Every product an order may contain: active, priced above zero, in the shop's currency."""
        pool = []
        rows = Product.objects.filter(is_active=True, price__gt=0, currency=self.currency).values_list(
            "id", "name", "sku", "price"
        )
        for pk, name, sku, price in rows.order_by("id").iterator(chunk_size=10_000):
            old = max((price * Decimal("0.95")).quantize(Decimal("1")) - Decimal("0.01"), Decimal("0.99"))
            pool.append(_Product(pk, name, sku, price, min(old, price)))
        return pool

    # -- orders ----------------------------------------------------------------------------

    def order_times(self, rng: random.Random, count: int) -> list[int]:
        """Placement times: the shop grew threefold over the history, evenings are busiest."""
        hour_cum = _cumulative(HOUR_WEIGHTS)
        span_days = self.days
        times = []
        for _ in range(count):
            # Density 1 + 2x over x in [0, 1]: the inverse of its distribution function.
            x = (math.sqrt(1 + 8 * rng.random()) - 1) / 2
            day = min(int(x * span_days), span_days - 1)
            ts = self.start_ts + day * DAY + _pick(rng, hour_cum) * HOUR + int(rng.random() * HOUR)
            times.append(min(ts, self.now_ts - 1))
        times.sort()
        return times

    def add_orders(self, count: int, customers: list[_Customer], products: list[_Product]) -> dict:
        """Write `count` orders with everything they imply; return the stock they moved per product."""
        if not customers:
            raise ValueError("No customer with a default shipping address to place orders for.")
        if not products:
            raise ValueError("No active product priced in the shop's currency to sell.")
        first_pk = self.ids[Order].take(count)
        rng = self.rng("orders", first_pk)
        times = self.order_times(rng, count)

        customers = sorted(customers, key=lambda c: (c.created, c.pk))
        signed_up = [c.created for c in customers]
        ranks = list(range(len(products)))
        rng.shuffle(ranks)
        # Popularity falls with rank (a long tail); which product is popular is random.
        product_cum = _cumulative(1.0 / (rank + 8) ** 0.9 for rank in ranks)
        total_weight = product_cum[-1]
        n_products = len(products)
        line_cum = _cumulative(LINE_COUNT_WEIGHTS)
        qty_cum = _cumulative(QUANTITY_WEIGHTS)

        sold = [0] * n_products  # shipped
        held = [0] * n_products  # still allocated to open orders: ordered, not yet shipped
        back = [0] * n_products  # returned and restocked
        S, E, M = _STATUS, _EVENT, _MOVEMENT
        cur = self.currency
        at = self.at
        now = self.now_ts
        take_line = self.ids[OrderLine].take
        take_event = self.ids[OrderEvent].take
        take_movement = self.ids[StockMovement].take
        take_shipment = self.ids[Shipment].take
        take_shipment_line = self.ids[ShipmentLine].take
        take_return = self.ids[Return].take
        take_return_line = self.ids[ReturnLine].take
        take_payment = self.ids[Payment].take
        add_order, add_line, add_event = self.orders.add, self.lines.add, self.events.add
        add_movement, add_shipment, add_payment = self.movements.add, self.shipments.add, self.payments.add
        add_shipment_line = self.shipment_lines.add
        add_return, add_return_line = self.returns.add, self.return_lines.add
        random_ = rng.random

        self.progress.start("orders", count)
        for index, placed in enumerate(times):
            pk = first_pk + index
            number = order_number_for(pk)
            k = bisect.bisect(signed_up, placed - HOUR)  # signed up (and saved a card) first
            customer = customers[int(random_() * k)] if k else customers[0]

            wanted = min(bisect.bisect(line_cum, random_() * line_cum[-1]) + 1, n_products)
            chosen: set[int] = set()
            while len(chosen) < wanted:
                chosen.add(bisect.bisect(product_cum, random_() * total_weight))
            old_prices = placed < self.price_rise_ts
            lines = []
            subtotal = Decimal("0.00")
            for p in sorted(chosen, key=lambda i: products[i].pk):
                product = products[p]
                quantity = bisect.bisect(qty_cum, random_() * qty_cum[-1]) + 1
                unit = product.old_price if old_prices else product.price
                line_total = unit * quantity
                subtotal += line_total
                lines.append((p, product, quantity, unit, line_total))
            shipping = shipping_cost_for(subtotal)
            total = subtotal + shipping

            # The order's life: when each step happens (None: never). Its status is the last
            # step before now.
            r = random_()
            paid_ts = cancel_ts = return_ts = None
            parcels: list[list] = []  # [shipped, delivered or None, {line index: quantity}]
            reason = ""
            if r < 0.03:
                cancel_ts = placed + HOUR + int(random_() * 3 * DAY)
                reason = CANCEL_BEFORE_PAYMENT[int(random_() * len(CANCEL_BEFORE_PAYMENT))]
            else:
                paid_ts = placed + (
                    60 + int(random_() * 1200) if random_() < 0.7 else HOUR + int(random_() * 23 * HOUR)
                )
                ship_delay = 2 * HOUR + int(random_() * 58 * HOUR)
                if r < 0.05:
                    cancel_ts = paid_ts + 600 + int(random_() * ship_delay * 0.9)
                    reason = CANCEL_AFTER_PAYMENT[int(random_() * len(CANCEL_AFTER_PAYMENT))]
                else:
                    ship_ts = paid_ts + ship_delay
                    deliver_ts = ship_ts + DAY + int(random_() * (9 if random_() < 0.05 else 5) * DAY)
                    everything = {i: line[2] for i, line in enumerate(lines)}
                    units = sum(everything.values())
                    if units > 1 and random_() < PARTIAL_SHARE:
                        # What was in stock went first; the rest (one line, or part of the only
                        # line) days or weeks later.
                        if len(lines) > 1:
                            late = int(random_() * len(lines))
                            first = {i: q for i, q in everything.items() if i != late}
                            rest = {late: everything[late]}
                        else:
                            now_part = 1 + int(random_() * (units - 1))
                            first, rest = {0: now_part}, {0: units - now_part}
                        second_ts = ship_ts + DAY + int(random_() * 13 * DAY)
                        second_deliver = second_ts + DAY + int(random_() * 5 * DAY)
                        parcels = [[ship_ts, deliver_ts, first], [second_ts, second_deliver, rest]]
                    else:
                        parcels = [[ship_ts, deliver_ts, everything]]
                    if random_() < RETURN_SHARE:
                        return_ts = max(p[1] for p in parcels) + DAY + int(random_() * 20 * DAY)
            if paid_ts is not None and paid_ts > now:
                paid_ts = None
                parcels = []
            if cancel_ts is not None and cancel_ts > now:
                cancel_ts = None
            parcels = [parcel for parcel in parcels if parcel[0] <= now]
            for parcel in parcels:
                if parcel[1] > now:
                    parcel[1] = None
            shipped_qty = [0] * len(lines)
            for _shipped, _delivered, quantities in parcels:
                for i, q in quantities.items():
                    shipped_qty[i] += q
            ordered = [line[2] for line in lines]
            all_shipped = bool(parcels) and shipped_qty == ordered
            all_delivered = all_shipped and all(parcel[1] is not None for parcel in parcels)
            if return_ts is not None and (not all_delivered or return_ts > now):
                return_ts = None
            returned: dict[int, int] = {}
            restock = True
            return_reason = ""
            if return_ts is not None:
                if random_() < FULL_RETURN_SHARE:
                    returned = dict(enumerate(ordered))
                else:
                    returned = {int(random_() * len(lines)): 1}
                restock = random_() < RESTOCK_SHARE
                reasons = RETURN_REASONS if restock else DAMAGED_REASONS
                return_reason = reasons[int(random_() * len(reasons))]
            full_return = bool(returned) and returned == dict(enumerate(ordered))
            if cancel_ts is not None:
                status = S.CANCELLED
            elif returned:
                status = S.RETURNED if full_return else S.PARTIALLY_RETURNED
            elif all_delivered:
                status = S.DELIVERED
            elif all_shipped:
                status = S.SHIPPED
            elif parcels:
                status = S.PARTIALLY_SHIPPED
            elif paid_ts is not None:
                status = S.PAID
            else:
                status = S.PLACED
            steps = [placed, paid_ts, cancel_ts, return_ts, *(t for parcel in parcels for t in parcel[:2])]
            last_ts = max(t for t in steps if t is not None)

            placed_at = at(placed)
            paid_at = at(paid_ts) if paid_ts is not None else None
            cancelled_at = at(cancel_ts) if cancel_ts is not None else None
            label = customer.method_label
            payment_label = label or "Manual payment"
            add_order(
                (
                    pk,
                    number,
                    customer.pk,
                    status,
                    cur,
                    subtotal,
                    shipping,
                    total,
                    *customer.snapshot,
                    customer.method_id,
                    label,
                    placed_at,
                    at(last_ts),
                    paid_at,
                    cancelled_at,
                )
            )
            first_line = take_line(len(lines))
            for i, (_p, product, quantity, unit, line_total) in enumerate(lines):
                add_line(
                    (
                        first_line + i,
                        pk,
                        product.pk,
                        product.name,
                        product.sku,
                        unit,
                        quantity,
                        line_total,
                        shipped_qty[i],
                        returned.get(i, 0),
                    )
                )
                add_movement(
                    (take_movement(), product.pk, M.ALLOCATION, "", 0, quantity, number, None, "", placed_at)
                )
            add_event(
                (
                    take_event(),
                    pk,
                    E.PLACED,
                    "",
                    S.PLACED,
                    f"{len(lines)} line(s), total {total} {cur}.",
                    None,
                    placed_at,
                )
            )

            # What a return refunds through the one captured payment (order_return's amounts).
            refund = Decimal("0.00")
            if returned:
                return_pk = take_return()
                refund = sum((lines[i][3] * q for i, q in returned.items()), Decimal("0.00"))
                if full_return:
                    refund += shipping  # everything came back: the shipping charge too
            if paid_at is not None:
                reference = _token(rng, "ch_")
                refunded_amount = total if cancelled_at is not None else refund
                add_payment(
                    (
                        take_payment(),
                        pk,
                        customer.method_id,
                        payment_label,
                        total,
                        refunded_amount,
                        cur,
                        "refunded" if refunded_amount == total else "captured",
                        reference,
                        "",  # paid by the customer's saved method, not an offline way
                        paid_at,
                        cancelled_at or (at(return_ts) if returned else paid_at),
                    )
                )
                add_event(
                    (
                        take_event(),
                        pk,
                        E.PAYMENT_CAPTURED,
                        "",
                        "",
                        f"{total} {cur} captured ({payment_label}) {reference}",
                        None,
                        paid_at,
                    )
                )
                add_event((take_event(), pk, E.PAID, S.PLACED, S.PAID, "", None, paid_at))
            if cancelled_at is not None:
                from_status = S.PAID if paid_at is not None else S.PLACED
                for _p, product, quantity, *_ in lines:
                    add_movement(
                        (
                            take_movement(),
                            product.pk,
                            M.RELEASE,
                            "",
                            0,
                            -quantity,
                            number,
                            None,
                            reason,
                            cancelled_at,
                        )
                    )
                add_event(
                    (take_event(), pk, E.CANCELLED, from_status, S.CANCELLED, reason, None, cancelled_at)
                )
                if paid_at is not None:
                    message = f"{total} {cur} refunded ({payment_label}). Order cancelled. {reason}"
                    add_event((take_event(), pk, E.REFUNDED, "", "", message, None, cancelled_at))
            else:
                # The parcels, deliveries and return, their events in time order with the
                # statuses order_ship, order_deliver and order_return step through.
                later = []  # (when, parcel or order of writing, kind, message)
                for n, (ship_ts, deliver_ts, quantities) in enumerate(parcels):
                    carrier, tracking = self._tracking(rng)
                    shipment_pk = take_shipment()
                    shipped_at = at(ship_ts)
                    delivered_at = at(deliver_ts) if deliver_ts is not None else None
                    add_shipment(
                        (
                            shipment_pk,
                            pk,
                            carrier.code,
                            tracking,
                            "delivered" if delivered_at else "in_transit",
                            shipped_at,
                            delivered_at,
                        )
                    )
                    for i, q in sorted(quantities.items()):
                        add_shipment_line((take_shipment_line(), shipment_pk, first_line + i, q))
                        sold[lines[i][0]] += q
                        add_movement(
                            (
                                take_movement(),
                                lines[i][1].pk,
                                M.SALE,
                                "",
                                -q,
                                -q,
                                number,
                                None,
                                "",
                                shipped_at,
                            )
                        )
                    summary = ", ".join(f"{q} × {lines[i][1].sku}" for i, q in sorted(quantities.items()))
                    later.append((ship_ts, n, E.SHIPPED, f"{carrier.name} {tracking}: {summary}"))
                    if delivered_at is not None:
                        when = timezone.localtime(delivered_at).strftime("%Y-%m-%d %H:%M")
                        later.append(
                            (deliver_ts, n, E.DELIVERED, f"{carrier.code} {tracking} delivered {when}")
                        )
                if returned:
                    returned_at = at(return_ts)
                    summary = ", ".join(f"{q} × {lines[i][1].sku}" for i, q in sorted(returned.items()))
                    add_return(
                        (return_pk, pk, return_reason, cur, True, full_return, refund, None, returned_at)
                    )
                    for i, q in sorted(returned.items()):
                        add_return_line((take_return_line(), return_pk, first_line + i, q, restock))
                        if restock:
                            back[lines[i][0]] += q
                            add_movement(
                                (
                                    take_movement(),
                                    lines[i][1].pk,
                                    M.RETURN,
                                    "return",
                                    q,
                                    0,
                                    number,
                                    None,
                                    return_reason,
                                    returned_at,
                                )
                            )
                    parts = [f"Return #{return_pk}: {summary}"]
                    if not restock:
                        parts.append(f"written off (not restocked): {summary}")
                    parts += [f"refunded {refund} {cur}", return_reason]
                    message = f"{refund} {cur} refunded ({payment_label}). Return #{return_pk}"
                    later.append((return_ts, 0, E.REFUNDED, message))
                    later.append((return_ts, 1, E.RETURNED, "; ".join(parts) + "."))
                later.sort(key=lambda step: (step[0], step[1]))
                state, to_ship, in_transit = S.PAID, sum(ordered), 0
                for when, n, kind, message in later:
                    from_status = to_status = ""
                    if kind == E.SHIPPED:
                        to_ship -= sum(parcels[n][2].values())
                        in_transit += 1
                        reached = S.SHIPPED if to_ship == 0 else S.PARTIALLY_SHIPPED
                        if reached != state:
                            from_status, to_status = state, reached
                    elif kind == E.DELIVERED:
                        in_transit -= 1
                        if state == S.SHIPPED and in_transit == 0:
                            from_status, to_status = state, S.DELIVERED
                    elif kind == E.RETURNED:
                        from_status, to_status = state, status
                    state = to_status or state
                    add_event((take_event(), pk, kind, from_status, to_status, message, None, at(when)))
                if status in (S.PLACED, S.PAID, S.PARTIALLY_SHIPPED):
                    for i, line in enumerate(lines):
                        held[line[0]] += line[2] - shipped_qty[i]

            if index % 1000 == 999:
                self.progress.advance(1000)
                self.flush_if_full()
        self.progress.advance(count % 1000)
        self.progress.finish()
        self.writer.finish()
        return {
            products[i].pk: (sold[i], held[i], back[i])
            for i in range(n_products)
            if sold[i] or held[i] or back[i]
        }

    def carriers(self) -> list[Carrier]:
        """The standard carriers the seed ships with (CARRIERS), added again if a manager removed
        them; one a manager renamed keeps its name."""
        if self._carriers is None:
            standard = {code: (name, url, tracked) for code, name, url, tracked in STANDARD_CARRIERS}
            self._carriers = []
            for code in CARRIERS:
                name, url, tracked = standard[code]
                carrier, _ = Carrier.objects.get_or_create(
                    code=code, defaults={"name": name, "tracking_url": url, "tracked": tracked}
                )
                self._carriers.append(carrier)
        return self._carriers

    def _tracking(self, rng: random.Random) -> tuple[Carrier, str]:
        """A carrier and a tracking number in its format (never a run of 13+ digits)."""
        carriers = self.carriers()
        carrier = carriers[int(rng.random() * len(carriers))]
        if carrier.code == "ups":
            # The shipper code ends in letters: the longest run of digits is 10.
            shipper = "".join(rng.choice("ABCDEFGHJKLMNPRSTVWXY") for _ in range(3))
            return carrier, f"1Z{rng.randrange(100, 999)}{shipper}03{rng.randrange(10**7, 10**8)}"
        if carrier.code == "fedex":
            return carrier, str(rng.randrange(10**11, 10**12))
        return carrier, str(rng.randrange(10**9, 10**10))

    # -- stock -----------------------------------------------------------------------------

    def add_stock(
        self,
        new_products: list[tuple[int, int, int]],
        moved: dict[int, tuple[int, int, int]],
        first_receipt: int,
    ) -> None:
        """Receipts dated before the history, and the stock rows that equal the ledger's sums.

        `moved`: per product, (sold, held, back): shipped, still allocated to open orders,
        returned and restocked. New products get an opening stock: what they sold plus what open
        orders hold plus what is left (none for a few, a handful for some, most a healthy
        shelf); what came back is on the shelf too. Products that were already here get a
        restock of exactly what the new orders took and did not give back, so their
        availability is unchanged.
        """
        rng = self.rng("stock", first_receipt)
        receipt_pk = first_receipt
        receipt_at = self.at(self.start_ts - DAY)
        stamp = self.now
        new_pks = set()
        for pk, created, threshold in new_products:
            new_pks.add(pk)
            sold, held, back = moved.get(pk, (0, 0, 0))
            r = rng.random()
            left = (
                0
                if r < 0.03
                else 1 + int(rng.random() * threshold)
                if r < 0.1
                else 20 + int(rng.random() * 400)
            )
            received = sold + held + left
            if received:
                at = self.at(created + HOUR)
                self.movements.add(
                    (
                        receipt_pk,
                        pk,
                        _MOVEMENT.RECEIPT,
                        "",
                        received,
                        0,
                        "",
                        None,
                        f"{SEED_NOTE}: opening stock",
                        at,
                    )
                )
            receipt_pk += 1
            self.stock.add((pk, received - sold + back, held, threshold, stamp))
        existing = {}
        for pk in sorted(set(moved) - new_pks):
            sold, held, back = moved[pk]
            if sold + held - back:  # never negative: what came back was sold first
                self.movements.add(
                    (
                        receipt_pk,
                        pk,
                        _MOVEMENT.RECEIPT,
                        "",
                        sold + held - back,
                        0,
                        "",
                        None,
                        f"{SEED_NOTE}: restock",
                        receipt_at,
                    )
                )
            receipt_pk += 1
            existing[pk] = (held, sold + held - back)
        self.writer.finish()
        if existing:
            # Stock rows already there (earlier run or other data): on hand goes up by the restock
            # minus the sales, which is what the new orders hold; allocated by the same. The rows
            # are deleted and written again: one UPDATE per row, or bulk_update's CASE over
            # thousands of keys, is far slower, and nothing refers to a stock row.
            pks = sorted(existing)
            current = {}
            for start in range(0, len(pks), 900):
                chunk = pks[start : start + 900]
                current.update(
                    (pk, (on_hand, allocated, threshold))
                    for pk, on_hand, allocated, threshold in Stock.objects.filter(pk__in=chunk).values_list(
                        "pk", "on_hand", "allocated", "low_stock_threshold"
                    )
                )
                Stock.objects.filter(pk__in=chunk).delete()
            for pk in pks:
                held, _ = existing[pk]
                on_hand, allocated, threshold = current.get(pk, (0, 0, 5))
                self.stock.add((pk, on_hand + held, allocated + held, threshold, stamp))
            self.writer.finish()

    # -- the whole run ---------------------------------------------------------------------

    @contextmanager
    def phase(self, name: str):
        start = time.perf_counter()
        yield
        self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - start

    def run(self) -> dict[str, int]:
        have = {
            "customers": Customer.objects.count(),
            "products": Product.objects.count(),
            "orders": Order.objects.count(),
        }
        add = {name: max(self.targets[name] - have[name], 0) for name in have}

        with self.phase("customers"):
            new_customers = self.add_customers(add["customers"]) if add["customers"] else []
        with self.phase("products"):
            new_products = self.add_products(add["products"]) if add["products"] else []
        moved: dict[int, tuple[int, int]] = {}
        # Receipt keys come before the orders' ledger rows, so the ledger's keys follow time.
        products_known = Product.objects.count()
        first_receipt = self.ids[StockMovement].take(products_known)
        if add["orders"]:
            with self.phase("loading customers and products"):
                customers = self.existing_customers() if have["customers"] else new_customers
                products = self.sellable_products()
            with self.phase("orders"):
                moved = self.add_orders(add["orders"], customers, products)
        with self.phase("stock"):
            self.add_stock(new_products, moved, first_receipt)
            self.reset_sequences()
        return add

    def reset_sequences(self) -> None:
        statements = connection.ops.sequence_reset_sql(no_style(), SEEDED_MODELS)
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)


def default_method() -> str:
    return "copy" if connection.vendor == "postgresql" else "insert"


def seed_scale(
    *,
    customers: int,
    products: int,
    orders: int,
    seed: int = 1,
    now: datetime.datetime | None = None,
    days: int = 730,
    method: str | None = None,
    batch_size: int = 5000,
    check: bool | None = None,
    progress: bool = False,
) -> SeedReport:
    """Bring the shop's tables up to these totals with realistic, consistent data.

    `now` (default: today at midnight UTC) anchors every timestamp; with the same seed, `now` and
    starting database the rows are the same. `check` runs `find_violations()` before committing
    (default: when the orders target is at most 200,000) and rolls everything back if any rule
    is broken. Raises `SeedRefused` then, or for impossible arguments.
    """
    if min(customers, products, orders) < 0 or days < 1 or batch_size < 1:
        raise SeedRefused("Counts must not be negative; days and batch size must be positive.")
    if now is None:
        now = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    now = now.astimezone(datetime.UTC)
    method = method or default_method()
    if method not in METHODS:
        raise SeedRefused(f"Unknown method {method!r}; use one of {', '.join(METHODS)}.")
    if method == "copy" and connection.vendor != "postgresql":
        raise SeedRefused("COPY is PostgreSQL only; use --method insert (or orm) on this database.")
    if check is None:
        check = orders <= 200_000

    report = SeedReport(method=method)
    writer = Writer(method, batch_size)
    counted = []

    def count_statements(execute, sql, params, many, context):
        counted.append(1)
        return execute(sql, params, many, context)

    started = time.perf_counter()
    with connection.execute_wrapper(count_statements), transaction.atomic():
        try:
            seeder = Seeder(
                customers=customers,
                products=products,
                orders=orders,
                seed=seed,
                now=now,
                days=days,
                writer=writer,
                progress=Progress(progress),
            )
            seeder.run()
        except ValueError as error:
            raise SeedRefused(str(error)) from error
        finally:
            writer.close()
        report.created = {t.model._meta.label: t.written for t in writer.tables if t.written}
        report.phases = seeder.phases
        report.write_seconds = writer.seconds
        report.statements = len(counted) + writer.copies
        if check:
            check_started = time.perf_counter()
            report.violations = find_violations()
            report.check_seconds = time.perf_counter() - check_started
            if report.violations:
                raise SeedRefused(
                    "The seeded data breaks the shop's rules; nothing was saved:\n  "
                    + "\n  ".join(report.violations)
                )
        committing = time.perf_counter()
    # PostgreSQL checks the (deferred) foreign keys of every row at commit: part of the cost.
    report.phases["commit"] = time.perf_counter() - committing
    report.seconds = time.perf_counter() - started - report.check_seconds
    report.totals = {
        "customers": Customer.objects.count(),
        "products": Product.objects.count(),
        "orders": Order.objects.count(),
    }
    return report


class SeedRefused(Exception):
    """The seed cannot run with these arguments, or produced data that breaks a rule."""


def digest(models_: Iterable[type[models.Model]] = SEEDED_MODELS) -> str:
    """A hash of every seeded table's rows (in key order): equal digests, equal data."""
    import hashlib

    h = hashlib.sha256()
    for model in models_:
        names = [f.attname for f in model._meta.concrete_fields if not f.generated]
        h.update(model._meta.label.encode())
        for row in model.objects.order_by("pk").values_list(*names).iterator(chunk_size=5000):
            h.update(repr(row).encode())
    return h.hexdigest()
