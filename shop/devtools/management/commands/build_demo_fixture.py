"""Build `fixtures/demo.json`, the demo data for `python manage.py loaddata demo`.

The data is made by the real services (product_create, stock_receive, stock_adjust, order_place,
order_draft_create, order_draft_set_lines, payment_capture (by saved methods and offline ways),
order_ship (whole orders and parts), order_deliver (per shipment), order_return (restocked or
written off, refunded), order_cancel), so every stock ledger row, shipment and return line, order
event and payment is exactly what the shop itself would have written. The carriers are the
standard ones (orders/carriers.py), in the fixture too, so loading it on a database whose
carriers were edited or removed still finds every shipment's carrier. Each
service call runs in chronological order and the rows it wrote are then given that step's time
(a queryset `.update()`: `auto_now_add` cannot be set any other way), so the history reads as if it
had happened over the weeks before the fixture's day.

The rows themselves (customers, products, the orders' story) are in shop/devtools/data/demo.py,
written for the day fixtures/demo.json is built for. `--today` builds the same story for another
day: a DemoCalendar moves every time by the same number of days and every card expiry by the same
number of months, and the builder judges card expiry as of that day, not the real date.

The build never touches the operator's database: the command migrates a throwaway SQLite database
in a temporary directory and re-runs itself there in a subprocess (marked by an environment
variable); that inner run refuses any database other than the one its parent created, and any
database that already holds data. The temporary directory is deleted afterwards.
"""

import argparse
import datetime
import json
import logging
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from io import StringIO
from pathlib import Path

from django.apps.registry import Apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import Count, Max

from catalog import services as catalog_services
from catalog.models import Product, ProductType, Stock, StockMovement
from customers.models import Address, Customer
from orders import services as order_services
from orders.models import Order, OrderEvent, OrderStatus, Return, ReturnLine, Shipment, ShipmentLine
from payments import services as payment_services
from payments.models import Payment, PaymentMethod
from shop.backoffice.integrity import find_violations
from shop.devtools.data import demo as demo_data

# The day the data is written for: the default of --today, the day fixtures/demo.json is built for.
DEFAULT_TODAY = datetime.date.fromisoformat(demo_data.TODAY)

# Set (to the throwaway database's path) only in the subprocess that does the actual build.
BUILD_DB_ENV = "SHOP_DEMO_FIXTURE_BUILD_DB"

# The order of the models in the fixture: everything a row points to comes before it.
FIXTURE_MODELS = [
    "customers.Customer",
    "customers.Address",
    "catalog.ProductType",
    "catalog.Product",
    "catalog.Stock",
    "catalog.StockMovement",
    "payments.PaymentMethod",
    "orders.Order",
    "orders.OrderLine",
    "orders.Carrier",
    "orders.Shipment",
    "orders.ShipmentLine",
    "orders.Return",
    "orders.ReturnLine",
    "orders.OrderEvent",
    "payments.Payment",
]

# Settings the data depends on, pinned for the build so the output never varies by machine.
PINNED_ENV = {
    "SHOP_CURRENCY": "USD",
    "SHOP_SHIPPING_FLAT_RATE": "7.50",
    "SHOP_FREE_SHIPPING_OVER": "100.00",
    "PHONENUMBER_DEFAULT_REGION": "US",
    "TIME_ZONE": "UTC",
}

CARD = PaymentMethod.Kind.CARD


# --------------------------------------------------------------------------------------------
# The day the fixture is built for
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoCalendar:
    """Where the data's times fall when the fixture is built for `today`.

    The data is written for DEFAULT_TODAY; for another day every time moves by the same number of
    days and every card expiry by the same number of months, so the story reads the same.

    With `until` (a moment, for `--now`), the story's last day is until's day instead, and that
    day's times are squeezed, in order, into its midnight .. `until`: what happened in the story's
    evening has happened by the moment the demo is loaded, so the dashboard's "today" is live.
    """

    today: datetime.date
    until: datetime.datetime | None = None

    @classmethod
    def up_to(cls, moment: datetime.datetime) -> "DemoCalendar":
        moment = moment.astimezone(datetime.UTC)
        return cls(moment.date() + datetime.timedelta(days=1), moment)

    @property
    def now(self) -> datetime.datetime:
        """The fixture's "now": every time in it is earlier (midnight UTC at the start of `today`,
        or `until`)."""
        if self.until is not None:
            return self.until
        return datetime.datetime.combine(self.today, datetime.time(), tzinfo=datetime.UTC)

    def at(self, text: str) -> datetime.datetime:
        """'2026-10-05 15:12' (UTC, as written in the data) -> when it happens for `today`."""
        written = datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC)
        moved = written + (self.today - DEFAULT_TODAY)
        if self.until is None:
            return moved
        last_day = datetime.datetime.combine(self.until.date(), datetime.time(), tzinfo=datetime.UTC)
        if moved < last_day:
            return moved
        return last_day + (moved - last_day) * ((self.until - last_day) / datetime.timedelta(days=1))

    def expiry(self, month: int, year: int) -> tuple[int, int]:
        """A card expiry (month, year) as written in the data -> the one for `today`."""
        moved = (self.today.year - DEFAULT_TODAY.year) * 12 + self.today.month - DEFAULT_TODAY.month
        index = year * 12 + month - 1 + moved
        return index % 12 + 1, index // 12


# --------------------------------------------------------------------------------------------
# The data (shop/devtools/data/demo.py) as specs, with its times for the calendar's day
# --------------------------------------------------------------------------------------------


@dataclass
class AddressSpec:
    key: str
    line1: str
    city: str
    state: str
    postal_code: str
    line2: str = ""
    default: bool = True
    created: datetime.datetime | None = None  # None: with the customer


@dataclass
class CustomerSpec:
    key: str
    first_name: str
    last_name: str
    email: str
    phone: str
    created: datetime.datetime
    addresses: list[AddressSpec]


@dataclass
class MethodSpec:
    key: str
    customer: str
    kind: str
    created: datetime.datetime
    brand: str = ""
    last4: str = ""
    expiry: tuple[int, int] | None = None  # (month, year)
    paypal_email: str = ""
    default: bool = False


@dataclass
class ProductSpec:
    type: str
    name: str
    sku: str
    price: str
    stock: int
    threshold: int
    description: str
    created: datetime.datetime


@dataclass
class ShipmentSpec:
    carrier: str  # a standard carrier's name
    at: datetime.datetime
    lines: list[tuple[str, int]] | None = None  # (SKU, quantity); None: all that is left
    delivered: datetime.datetime | None = None


@dataclass
class ReturnSpec:
    order: str
    at: datetime.datetime
    lines: list[tuple[str, int, bool]]  # (SKU, quantity, restocked)
    refund: bool = True
    refund_shipping: bool = False
    reason: str = ""


@dataclass
class OrderSpec:
    key: str
    customer: str
    placed: datetime.datetime
    lines: list[tuple[str, int]]
    method: str | None = None
    address: str | None = None  # None: the customer's default shipping address
    pay: bool = True  # captured CAPTURE_DELAY after placing
    shipments: list[ShipmentSpec] = field(default_factory=list)  # in the order they leave
    cancel: tuple[datetime.datetime, str] | None = None  # (when, reason); reason may use {KEY}
    # A part payment staff recorded: (when, offline way, amount, reference).
    offline_payment: tuple[datetime.datetime, str, str, str] | None = None
    draft: bool = False  # started by staff and not placed: `placed` is when the draft was started


@dataclass
class DemoData:
    customers: list[CustomerSpec]
    methods: list[MethodSpec]
    product_types: dict[str, str]  # name: description
    products: list[ProductSpec]
    receipts: list[tuple[str, int, datetime.datetime, str]]  # (SKU, quantity, when, note)
    adjustments: list[tuple[str, int, str, datetime.datetime, str]]  # (SKU, change, reason, when, note)
    deactivations: list[tuple[str, datetime.datetime]]  # (SKU, when)
    orders: list[OrderSpec]
    returns: list[ReturnSpec]
    capture_delay: datetime.timedelta


def load_data(calendar: DemoCalendar) -> DemoData:
    at = calendar.at

    def address(row: dict) -> AddressSpec:
        return AddressSpec(**{**row, "created": at(row["created"]) if "created" in row else None})

    def customer(row: dict) -> CustomerSpec:
        addresses = [address(a) for a in row["addresses"]]
        return CustomerSpec(**{**row, "created": at(row["created"]), "addresses": addresses})

    def method(row: dict) -> MethodSpec:
        expiry = calendar.expiry(*row["expiry"]) if "expiry" in row else None
        return MethodSpec(**{**row, "created": at(row["created"]), "expiry": expiry})

    def shipment(row: dict) -> ShipmentSpec:
        delivered = at(row["delivered"]) if "delivered" in row else None
        return ShipmentSpec(**{**row, "at": at(row["at"]), "delivered": delivered})

    def order(row: dict) -> OrderSpec:
        row = dict(row)
        times = {"placed": at(row["placed"])}
        shipments = [shipment(s) for s in row.pop("shipments", [])]
        if "ship" in row:  # the whole order in one parcel
            carrier, when = row.pop("ship")
            deliver = row.pop("deliver", None)
            shipments.append(ShipmentSpec(carrier, at(when), delivered=at(deliver) if deliver else None))
        times["shipments"] = shipments
        if "cancel" in row:
            when, reason = row["cancel"]
            times["cancel"] = (at(when), reason)
        if "offline_payment" in row:
            when, way, amount, reference = row["offline_payment"]
            times["offline_payment"] = (at(when), way, amount, reference)
        return OrderSpec(**{**row, **times})

    products = []
    for type_name, first_created, items in demo_data.PRODUCTS:
        for index, (name, sku, price, stock, threshold, description) in enumerate(items):
            created = at(first_created) + datetime.timedelta(minutes=7 * index)
            products.append(ProductSpec(type_name, name, sku, price, stock, threshold, description, created))

    return DemoData(
        customers=[customer(row) for row in demo_data.CUSTOMERS],
        methods=[method(row) for row in demo_data.PAYMENT_METHODS],
        product_types=dict(demo_data.PRODUCT_TYPES),
        products=products,
        receipts=[(sku, quantity, at(when), note) for sku, quantity, when, note in demo_data.RECEIPTS],
        adjustments=[
            (sku, delta, reason, at(when), note) for sku, delta, reason, when, note in demo_data.ADJUSTMENTS
        ],
        deactivations=[(sku, at(when)) for sku, when in demo_data.DEACTIVATIONS],
        orders=[order(row) for row in demo_data.ORDERS],
        returns=[ReturnSpec(**{**row, "at": at(row["at"])}) for row in demo_data.RETURNS],
        capture_delay=datetime.timedelta(minutes=demo_data.CAPTURE_DELAY_MINUTES),
    )


# --------------------------------------------------------------------------------------------
# The build
# --------------------------------------------------------------------------------------------


class PaymentMethodOnDay(PaymentMethod):
    """A saved payment method whose `is_expired` is judged on the build's day, not the real date.

    The services refuse an expired card (`check_payment_method` asks `method.is_expired`, which
    on the model compares with the real date), so the builder hands them these views of its
    methods: a card that expires in real life after the fixture's day never breaks a rebuild, and
    one already expired on that day is refused as the shop would refuse it then. The rule is the
    model's (`PaymentMethod.expired_on`), asked for the day given. A proxy (the same
    table and fields, so the services and foreign keys take it as a PaymentMethod) in a model
    registry of its own: never one of the project's models, no migration.
    """

    day: datetime.date

    class Meta:
        proxy = True
        apps = Apps(installed_apps=[])

    @classmethod
    def on(cls, method: PaymentMethod, day: datetime.date) -> "PaymentMethodOnDay":
        names = [f.attname for f in PaymentMethod._meta.concrete_fields if not f.generated]
        view = cls.from_db(method._state.db, names, [getattr(method, name) for name in names])
        view.day = day
        return view

    @property
    def is_expired(self) -> bool:
        return self.expired_on(self.day)


def tracking_number(carrier: str, order_pk: int, part: int = 0) -> str:
    """A believable, unique tracking number for the order's `part`-th parcel ("" for the local
    courier, which is untracked)."""
    if carrier == "UPS":
        return f"1Z8A7V94{0x3D000000 + order_pk * 7919 + part * 13:010d}"
    if carrier == "USPS":
        return f"9400111202895{order_pk * 104729 + part * 17:09d}"
    if carrier == "FedEx":
        return f"7749{order_pk * 1046527 + part * 19:08d}"
    if carrier == "DHL":
        return f"{order_pk * 6700417 + part * 23:010d}"
    if carrier == "Local courier":
        return ""
    raise ValueError(carrier)


# Rows each step may create, and the fields that get the step's time.
STAMPED_NEW_ROWS = {
    Customer: ("created_at", "updated_at"),
    Address: ("created_at", "updated_at"),
    PaymentMethod: ("created_at", "updated_at"),
    Product: ("created_at", "updated_at"),
    StockMovement: ("created_at",),
    Order: ("created_at", "updated_at"),
    OrderEvent: ("created_at",),
    Payment: ("created_at", "updated_at"),
    Shipment: ("shipped_at",),
    Return: ("created_at",),
}


def _max_pk(model) -> int:
    return model.objects.aggregate(m=Max("pk"))["m"] or 0


@contextmanager
def stamped(when: datetime.datetime):
    """Give every row created inside the block the time `when`."""
    marks = {model: _max_pk(model) for model in STAMPED_NEW_ROWS}
    yield
    for model, fields in STAMPED_NEW_ROWS.items():
        model.objects.filter(pk__gt=marks[model]).update(**dict.fromkeys(fields, when))


class DemoBuilder:
    """Runs the data's story through the services, step by step in time order, for `calendar`'s day."""

    def __init__(self, calendar: DemoCalendar):
        self.calendar = calendar
        self.data = load_data(calendar)
        self.customers: dict[str, Customer] = {}
        self.addresses: dict[str, Address] = {}
        self.methods: dict[str, PaymentMethodOnDay] = {}  # what the services are given
        self.types: dict[str, ProductType] = {}
        self.products: dict[str, Product] = {}
        self.orders: dict[str, Order] = {}
        self.shipments: dict[tuple[str, int], Shipment] = {}
        self.steps: list[tuple[datetime.datetime, int, str, object]] = []

    def step(self, when, label, fn):
        self.steps.append((when, len(self.steps), label, fn))

    # --- steps ---

    def plan(self):
        data = self.data
        for spec in data.customers:
            self.step(spec.created, f"customer {spec.key}", lambda when, s=spec: self.create_customer(s))
            for addr in spec.addresses:
                if addr.created:
                    self.step(
                        addr.created, f"address {addr.key}", lambda when, s=spec, a=addr: self.add(s, a)
                    )
        for spec in data.methods:
            self.step(spec.created, f"payment method {spec.key}", lambda when, s=spec: self.create_method(s))
        for spec in data.products:
            self.step(spec.created, f"product {spec.sku}", lambda when, s=spec: self.create_product(s))
        for sku, quantity, when, note in data.receipts:
            self.step(
                when,
                f"receive {sku}",
                lambda when, sku=sku, q=quantity, n=note: catalog_services.stock_receive(
                    product=self.products[sku], quantity=q, note=n
                ),
            )
        for sku, delta, reason, when, note in data.adjustments:
            self.step(
                when,
                f"adjust {sku}",
                lambda when, sku=sku, d=delta, r=reason, n=note: catalog_services.stock_adjust(
                    product=self.products[sku], delta=d, reason=r, note=n
                ),
            )
        for sku, when in data.deactivations:
            self.step(when, f"deactivate {sku}", lambda when, sku=sku: self.deactivate(sku, when))
        for spec in data.orders:
            self.plan_order(spec)
        for spec in data.returns:
            self.step(spec.at, f"return from {spec.order}", lambda when, s=spec: self.ret(s, when))

    def plan_order(self, spec: OrderSpec):
        if spec.draft:
            self.step(spec.placed, f"draft {spec.key}", lambda when: self.draft(spec))
            return
        self.step(spec.placed, f"place {spec.key}", lambda when: self.place(spec))
        if spec.offline_payment:
            self.step(
                spec.offline_payment[0],
                f"record payment {spec.key}",
                lambda when: self.record_payment(spec),
            )
        if spec.pay:
            self.step(
                spec.placed + self.data.capture_delay,
                f"capture {spec.key}",
                lambda when: self.capture(spec, when),
            )
        for part, shipment in enumerate(spec.shipments):
            self.step(shipment.at, f"ship {spec.key} #{part + 1}", lambda when, p=part: self.ship(spec, p))
            if shipment.delivered:
                self.step(
                    shipment.delivered,
                    f"deliver {spec.key} #{part + 1}",
                    lambda when, p=part: self.deliver(spec, p, when),
                )
        if spec.cancel:
            cancelled, reason = spec.cancel
            self.step(cancelled, f"cancel {spec.key}", lambda when: self.cancel(spec, reason, when))

    def run(self):
        self.plan()
        last = None
        for when, _, label, fn in sorted(self.steps, key=lambda s: (s[0], s[1])):
            if when >= self.calendar.now:
                raise CommandError(f"Step {label} at {when} is not before {self.calendar.now}.")
            if last is not None and when <= last:
                raise CommandError(f"Step {label} at {when} does not come after the step before it.")
            last = when
            with stamped(when):
                fn(when)
        self.finish()

    def create_customer(self, spec: CustomerSpec):
        customer = Customer(
            first_name=spec.first_name, last_name=spec.last_name, email=spec.email, phone=spec.phone
        )
        # The seed's 555 numbers are possible but not valid (no real exchange); the phone field
        # accepts possible numbers and stores every number normalised as E.164 (+15551234567).
        customer.full_clean()
        customer.save()
        self.customers[spec.key] = customer
        for addr in spec.addresses:
            if not addr.created:
                self.add(spec, addr)

    def add(self, spec: CustomerSpec, addr: AddressSpec):
        address = Address(
            customer=self.customers[spec.key],
            line1=addr.line1,
            line2=addr.line2,
            city=addr.city,
            state=addr.state,
            postal_code=addr.postal_code,
            country="US",
            is_default_shipping=addr.default,
            is_default_billing=addr.default,
        )
        # The one-default-per-customer constraints are left to the database: their GeneratedFields
        # use F("customer_id"), which model validation does not substitute, so full_clean() refuses
        # every default address once any other customer has one.
        address.full_clean(exclude=["default_shipping_key", "default_billing_key"])
        address.save()
        self.addresses[addr.key] = address

    def create_method(self, spec: MethodSpec):
        customer = self.customers[spec.customer]
        method = PaymentMethod(customer=customer, kind=spec.kind, is_default=spec.default)
        if spec.kind == CARD:
            method.brand = spec.brand
            method.last4 = spec.last4
            method.exp_month, method.exp_year = spec.expiry
            method.holder_name = customer.full_name
            method.gateway_token = f"tok_demo_{spec.key.replace('-', '_')}_{spec.last4}"
        else:
            method.paypal_email = spec.paypal_email
        method.full_clean(exclude=["default_key"])  # see add(): the database checks this one
        method.save()
        self.methods[spec.key] = PaymentMethodOnDay.on(method, self.calendar.today)

    def create_product(self, spec: ProductSpec):
        if spec.type not in self.types:
            description = self.data.product_types[spec.type]
            self.types[spec.type] = ProductType.objects.create(name=spec.type, description=description)
        self.products[spec.sku] = catalog_services.product_create(
            name=spec.name,
            sku=spec.sku,
            product_type=self.types[spec.type],
            price=Decimal(spec.price),
            description=spec.description,
            low_stock_threshold=spec.threshold,
            initial_stock=spec.stock,
        )

    def deactivate(self, sku: str, when):
        product = self.products[sku]
        product.is_active = False
        product.save(update_fields=["is_active", "updated_at"])
        Product.objects.filter(pk=product.pk).update(updated_at=when)

    def place(self, spec: OrderSpec):
        self.orders[spec.key] = order_services.order_place(
            # Read back, as the shop would: the order snapshots str(customer.phone), which for a
            # 555 number is whatever the instance was given ("555-123-4567"), not the stored E.164.
            customer=Customer.objects.get(pk=self.customers[spec.customer].pk),
            lines=[(self.products[sku], quantity) for sku, quantity in spec.lines],
            shipping_address=self.addresses[spec.address] if spec.address else None,
            payment_method=self.methods[spec.method] if spec.method else None,
        )

    def draft(self, spec: OrderSpec):
        draft = order_services.order_draft_create(customer=self.customers[spec.customer])
        self.orders[spec.key] = order_services.order_draft_set_lines(
            order=draft, lines=[(self.products[sku], quantity) for sku, quantity in spec.lines]
        )

    def record_payment(self, spec: OrderSpec):
        _, way, amount, reference = spec.offline_payment
        payment_services.payment_capture(
            order=self.orders[spec.key], offline_method=way, amount=Decimal(amount), reference=reference
        )

    def capture(self, spec: OrderSpec, when):
        order = self.orders[spec.key]
        method = self.methods[spec.method]
        compact = order.number.replace("-", "")
        reference = f"ch_demo_{compact.lower()}" if method.kind == CARD else f"PAYID-DEMO-{compact}"
        # The order's own method, given explicitly: the service would otherwise read it back from
        # the database as a plain PaymentMethod and judge its expiry by the real date.
        payment_services.payment_capture(order=order, method=method, reference=reference)
        Order.objects.filter(pk=order.pk, status=OrderStatus.PAID).update(paid_at=when)

    def order_line(self, order: Order, sku: str):
        return order.lines.get(product=self.products[sku])

    def ship(self, spec: OrderSpec, part: int):
        order = self.orders[spec.key]
        shipment = spec.shipments[part]
        lines = None
        if shipment.lines is not None:
            lines = [(self.order_line(order, sku), quantity) for sku, quantity in shipment.lines]
        self.shipments[spec.key, part] = order_services.order_ship(
            order=order,
            carrier=shipment.carrier,
            tracking_number=tracking_number(shipment.carrier, order.pk, part),
            lines=lines,
        )

    def deliver(self, spec: OrderSpec, part: int, when):
        shipment = self.shipments[spec.key, part]
        shipment.refresh_from_db()  # its shipped_at is the ship step's time (stamped)
        order_services.order_deliver(order=self.orders[spec.key], shipment=shipment, delivered_at=when)

    def cancel(self, spec: OrderSpec, reason: str, when):
        order = self.orders[spec.key]
        reason = reason.format(**{key: o.number for key, o in self.orders.items()})
        order_services.order_cancel(order=order, reason=reason)
        Order.objects.filter(pk=order.pk).update(cancelled_at=when)
        Payment.objects.filter(order=order, refunded_amount__gt=0).update(updated_at=when)

    def ret(self, spec: ReturnSpec, when):
        order = self.orders[spec.order]
        refunded_before = dict(order.payments.values_list("pk", "refunded_amount"))
        order_services.order_return(
            order=order,
            lines=[(self.order_line(order, sku), quantity, restock) for sku, quantity, restock in spec.lines],
            refund=spec.refund,
            refund_shipping=spec.refund_shipping,
            reason=spec.reason,
        )
        for pk, refunded in order.payments.values_list("pk", "refunded_amount"):
            if refunded != refunded_before[pk]:
                Payment.objects.filter(pk=pk).update(updated_at=when)

    def finish(self):
        """Times that follow from the history: last change of each stock row and order."""
        last_movement = dict(
            StockMovement.objects.values("product_id")
            .annotate(m=Max("created_at"))
            .values_list("product_id", "m")
        )
        for product_id, when in last_movement.items():
            Stock.objects.filter(pk=product_id).update(updated_at=when)
        last_event = dict(
            OrderEvent.objects.values("order_id").annotate(m=Max("created_at")).values_list("order_id", "m")
        )
        for order_id, when in last_event.items():
            Order.objects.filter(pk=order_id).update(updated_at=when)


# --------------------------------------------------------------------------------------------
# Checks on the result, before it is written
# --------------------------------------------------------------------------------------------


def problems(now: datetime.datetime) -> list[str]:
    found = find_violations()  # the shop's own cross-table rules
    statuses = set(Order.objects.values_list("status", flat=True))
    missing = set(OrderStatus.values) - statuses
    if missing:
        found.append(f"no orders with status {sorted(missing)}")
    if not Product.objects.low_stock().exists():
        found.append("no product is low on stock")
    if not Stock.objects.filter(on_hand=0).exists():
        found.append("no product is out of stock")
    if not Product.objects.filter(is_active=False).exists():
        found.append("no inactive product")
    for order in Order.objects.prefetch_related("shipments", "returns"):
        shipments = list(order.shipments.all())
        # Each parcel leaves after the order was placed and paid, and arrives after it left.
        for times in [[order.created_at, order.paid_at]] + [
            [order.created_at, order.paid_at, s.shipped_at, s.delivered_at] for s in shipments
        ]:
            times = [x for x in times if x]
            if times != sorted(times) or len(set(times)) != len(times):
                found.append(f"{order.number}: times out of order {times}")
        last_shipped = max((s.shipped_at for s in shipments), default=None)
        for record in order.returns.all():
            if last_shipped is None or record.created_at <= last_shipped:
                found.append(f"{order.number}: return #{record.pk} before its goods shipped")
    for model, fields in STAMPED_NEW_ROWS.items():
        for name in fields:
            late = model.objects.filter(**{f"{name}__gte": now}).count()
            if late:
                found.append(f"{late} {model.__name__} rows with {name} not before {now}")
    return found


def summary() -> str:
    by_status = dict(Order.objects.values_list("status").annotate(n=Count("pk")).order_by())
    lines = [
        f"{Customer.objects.count()} customers, {Address.objects.count()} addresses, "
        f"{PaymentMethod.objects.count()} payment methods",
        f"{ProductType.objects.count()} product types, {Product.objects.count()} products "
        f"({Product.objects.filter(is_active=False).count()} inactive, "
        f"{Product.objects.low_stock().count()} low on stock, "
        f"{Product.objects.out_of_stock().count()} out of stock), "
        f"{StockMovement.objects.count()} stock movements",
        f"{Order.objects.count()} orders: "
        + ", ".join(f"{by_status.get(s, 0)} {s}" for s in OrderStatus.values)
        + f"; {Shipment.objects.count()} shipments ({ShipmentLine.objects.count()} lines), "
        f"{Return.objects.count()} returns ({ReturnLine.objects.count()} lines), "
        f"{OrderEvent.objects.count()} events, {Payment.objects.count()} payments",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def parse_day(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day ({error}); use YYYY-MM-DD.") from error


def parse_moment(text: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date and time ({error}); use YYYY-MM-DDTHH:MM[:SS][+00:00]."
        ) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    day = moment.astimezone(datetime.UTC).date()
    midnight = datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)
    if moment <= midnight:
        # The story's last day needs some of it to happen in: midnight is the day before's end.
        moment = midnight - datetime.timedelta(microseconds=1)
    return moment


class Command(BaseCommand):
    help = (
        "Build the demo fixture (default fixtures/demo.json) by running the real services in a "
        "throwaway SQLite database. The command migrates a new SQLite file in a temporary directory "
        "and re-runs itself there in a subprocess, so it never reads or writes the database in "
        "DATABASE_URL; the inner run refuses a database that already holds data. Every time in it "
        "is before --today, so the output is the same on every run for the same day. "
        "Load the result with `manage.py loaddata demo`."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            default=str(Path(settings.BASE_DIR) / "fixtures" / "demo.json"),
            help="Where to write the fixture (default: fixtures/demo.json in the project).",
        )
        parser.add_argument(
            "--today",
            type=parse_day,
            default=DEFAULT_TODAY,
            help=(
                "The day the fixture is built for, YYYY-MM-DD: every time in it is before that day "
                "and card expiry is judged on it (default: "
                f"{DEFAULT_TODAY}, the day fixtures/demo.json is built for; another day moves every "
                "time by the same number of days)."
            ),
        )

        parser.add_argument(
            "--now",
            type=parse_moment,
            default=None,
            help=(
                "Build the story up to this moment, an ISO date and time (UTC unless it says): its "
                "last day is that day, with that day's times squeezed, in order, before the moment "
                "(what `manage.py demo_load` uses, so the dashboard's today is live)."
            ),
        )

    def handle(self, *args, output, today, now, verbosity, **options):
        self.verbosity = verbosity
        output = Path(output).resolve()
        if now is not None and today != DEFAULT_TODAY:
            raise CommandError("Give --today or --now, not both.")
        calendar = DemoCalendar(today) if now is None else DemoCalendar.up_to(now)
        build_db = os.environ.get(BUILD_DB_ENV)
        if build_db:
            self.build_here(Path(build_db), output, calendar)
        else:
            self.build_in_throwaway_db(output, verbosity, calendar)

    def build_in_throwaway_db(self, output: Path, verbosity: int, calendar: DemoCalendar):
        manage_py = Path(settings.BASE_DIR) / "manage.py"
        with tempfile.TemporaryDirectory(prefix="shop-demo-fixture-") as tmp:
            db_path = Path(tmp) / "build.sqlite3"
            env = {
                **os.environ,
                **PINNED_ENV,
                "DATABASE_URL": f"sqlite:///{db_path}",
                BUILD_DB_ENV: str(db_path),
                # Settings refuse to load without one (unless DEBUG); this process signs nothing.
                "SECRET_KEY": os.environ.get("SECRET_KEY") or "demo-fixture-build-only",
            }
            commands = [
                ["migrate", "--noinput", "--verbosity", "0"],
                [
                    "build_demo_fixture",
                    "--output",
                    str(output),
                    *(
                        ["--now", calendar.until.isoformat()]
                        if calendar.until is not None
                        else ["--today", calendar.today.isoformat()]
                    ),
                    "--verbosity",
                    str(verbosity),
                ],
            ]
            for command in commands:
                result = subprocess.run(
                    [sys.executable, str(manage_py), *command], env=env, cwd=settings.BASE_DIR, check=False
                )
                if result.returncode:
                    raise CommandError(f"`manage.py {' '.join(command)}` failed in the build database.")

    def build_here(self, db_path: Path, output: Path, calendar: DemoCalendar):
        db = settings.DATABASES["default"]
        if connection.vendor != "sqlite" or Path(db["NAME"]).resolve() != db_path.resolve():
            raise CommandError(
                f"{BUILD_DB_ENV} is set, but the database is not that throwaway SQLite file. "
                "Run this command without that variable."
            )
        models = [
            Customer,
            Address,
            PaymentMethod,
            ProductType,
            Product,
            Stock,
            StockMovement,
            Order,
            Payment,
        ]
        if any(model.objects.exists() for model in models):
            raise CommandError("The build database already holds data; refusing to build on top of it.")
        # The services announce every order and payment at INFO; not wanted here.
        logging.getLogger("shop").setLevel(logging.WARNING)

        DemoBuilder(calendar).run()
        found = problems(calendar.now)
        if found:
            raise CommandError("The demo data is inconsistent:\n  " + "\n  ".join(found))
        if self.verbosity >= 1:
            self.stdout.write(summary())

        dump = StringIO()
        call_command("dumpdata", *FIXTURE_MODELS, indent=2, stdout=dump)
        objects = json.loads(dump.getvalue())
        rank = {label.lower(): index for index, label in enumerate(FIXTURE_MODELS)}
        objects.sort(key=lambda obj: (rank[obj["model"]], obj["pk"]))
        text = json.dumps(objects, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder) + "\n"
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(output.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(output)
        if self.verbosity >= 1:
            self.stdout.write(self.style.SUCCESS(f"Wrote {len(objects)} objects to {output}"))
