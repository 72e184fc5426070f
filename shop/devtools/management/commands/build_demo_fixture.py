"""Build `fixtures/demo.json`, the demo data for `python manage.py loaddata demo`.

The data is made by the real services (product_create, stock_receive, stock_adjust, order_place,
payment_capture, order_ship, order_deliver, order_cancel, payment_refund, order_add_note), so every
stock ledger row, order event and payment is exactly what the shop itself would have written. Each
service call runs in chronological order and the rows it wrote are then given that step's time
(a queryset `.update()`: `auto_now_add` cannot be set any other way), so the history reads as if it
had happened over the weeks before DEMO_NOW.

The build never touches the operator's database: the command migrates a throwaway SQLite database
in a temporary directory and re-runs itself there in a subprocess (marked by an environment
variable); that inner run refuses any database other than the one its parent created, and any
database that already holds data. The temporary directory is deleted afterwards.
"""

import datetime
import json
import logging
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

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
from orders.models import Order, OrderEvent, OrderStatus, Shipment
from payments import models as payment_models
from payments import services as payment_services
from payments.models import Payment, PaymentMethod
from shop.backoffice.integrity import find_violations

# The fixture's "now": every timestamp in it is earlier.
DEMO_NOW = datetime.datetime(2026, 11, 20, tzinfo=datetime.UTC)

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
    "orders.Shipment",
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


def t(text: str) -> datetime.datetime:
    """'2026-10-05 15:12' -> an aware UTC datetime."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC)


# --------------------------------------------------------------------------------------------
# The data
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


CUSTOMERS = [
    # The seed's three customers, exactly as given (country "USA" is the US).
    CustomerSpec(
        "john",
        "John",
        "Doe",
        "john.doe@example.com",
        "555-123-4567",
        t("2025-02-11 14:03"),
        [AddressSpec("john-home", "123 Elm St", "New York", "NY", "10001")],
    ),
    CustomerSpec(
        "jane",
        "Jane",
        "Smith",
        "jane.smith@example.com",
        "555-987-6543",
        t("2025-03-02 18:21"),
        [AddressSpec("jane-home", "456 Oak St", "Los Angeles", "CA", "90001")],
    ),
    CustomerSpec(
        "emily",
        "Emily",
        "Clark",
        "emily.clark@example.com",
        "555-456-7890",
        t("2025-04-17 16:45"),
        [AddressSpec("emily-home", "789 Pine St", "Chicago", "IL", "60601")],
    ),
    CustomerSpec(
        "michael",
        "Michael",
        "Johnson",
        "michael.johnson@example.com",
        "512-555-0142",
        t("2025-06-08 20:12"),
        [AddressSpec("michael-home", "2200 S Congress Ave", "Austin", "TX", "78704", line2="Apt 314")],
    ),
    CustomerSpec(
        "sarah",
        "Sarah",
        "Williams",
        "sarah.williams@example.com",
        "206-555-0178",
        t("2025-07-22 17:30"),
        [AddressSpec("sarah-home", "1420 E Pine St", "Seattle", "WA", "98122")],
    ),
    CustomerSpec(
        "david",
        "David",
        "Martinez",
        "david.martinez@example.com",
        "602-555-0119",
        t("2025-09-14 15:55"),
        [AddressSpec("david-home", "3150 N Central Ave", "Phoenix", "AZ", "85012", line2="Unit 5")],
    ),
    CustomerSpec(
        "olivia",
        "Olivia",
        "Brown",
        "olivia.brown@example.com",
        "617-555-0163",
        t("2025-11-03 13:10"),
        [
            AddressSpec("olivia-home", "48 Beacon St", "Boston", "MA", "02108"),
            AddressSpec(
                "olivia-work",
                "200 Clarendon St",
                "Boston",
                "MA",
                "02116",
                line2="Floor 12",
                default=False,
                created=t("2026-06-12 14:25"),
            ),
        ],
    ),
    CustomerSpec(
        "james",
        "James",
        "Wilson",
        "james.wilson@example.com",
        "404-555-0127",
        t("2026-01-19 22:40"),
        [AddressSpec("james-home", "1065 Peachtree St NE", "Atlanta", "GA", "30309")],
    ),
    CustomerSpec(
        "sophia",
        "Sophia",
        "Garcia",
        "sophia.garcia@example.com",
        "305-555-0184",
        t("2026-03-08 19:05"),
        [AddressSpec("sophia-home", "1500 Collins Ave", "Miami Beach", "FL", "33139", line2="Apt 7B")],
    ),
    CustomerSpec(
        "daniel",
        "Daniel",
        "Lee",
        "daniel.lee@example.com",
        "303-555-0136",
        t("2026-05-27 16:20"),
        [
            AddressSpec("daniel-home", "1550 Larimer St", "Denver", "CO", "80202", line2="Unit 802"),
            # His parents' house: a gift order goes there.
            AddressSpec(
                "daniel-parents",
                "2450 Mapleton Ave",
                "Boulder",
                "CO",
                "80304",
                default=False,
                created=t("2026-11-18 23:10"),
            ),
        ],
    ),
    CustomerSpec(
        "ava",
        "Ava",
        "Thompson",
        "ava.thompson@example.com",
        "615-555-0191",
        t("2026-08-30 21:15"),
        [AddressSpec("ava-home", "700 Church St", "Nashville", "TN", "37203")],
    ),
    CustomerSpec(
        "ethan",
        "Ethan",
        "Nguyen",
        "ethan.nguyen@example.com",
        "503-555-0155",
        t("2026-10-25 18:02"),
        [AddressSpec("ethan-home", "1234 SE Division St", "Portland", "OR", "97202")],
    ),
]


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


CARD, PAYPAL = PaymentMethod.Kind.CARD, PaymentMethod.Kind.PAYPAL
Brand = PaymentMethod.Brand

METHODS = [
    MethodSpec("john-visa", "john", CARD, t("2025-02-11 14:10"), Brand.VISA, "4242", (8, 2029), default=True),
    MethodSpec("jane-mc-old", "jane", CARD, t("2025-03-02 18:30"), Brand.MASTERCARD, "4444", (6, 2026)),
    MethodSpec(
        "emily-paypal",
        "emily",
        PAYPAL,
        t("2025-04-17 16:50"),
        paypal_email="emily.clark@example.com",
        default=True,
    ),
    MethodSpec(
        "michael-amex", "michael", CARD, t("2025-06-08 20:20"), Brand.AMEX, "1005", (11, 2028), default=True
    ),
    MethodSpec(
        "sarah-visa", "sarah", CARD, t("2025-07-22 17:40"), Brand.VISA, "1881", (2, 2031), default=True
    ),
    MethodSpec(
        "david-paypal",
        "david",
        PAYPAL,
        t("2025-09-14 16:00"),
        paypal_email="david.martinez@example.com",
        default=True,
    ),
    MethodSpec(
        "olivia-visa", "olivia", CARD, t("2025-11-03 13:20"), Brand.VISA, "0077", (9, 2029), default=True
    ),
    MethodSpec(
        "james-discover",
        "james",
        CARD,
        t("2026-01-19 22:45"),
        Brand.DISCOVER,
        "1117",
        (5, 2028),
        default=True,
    ),
    MethodSpec(
        "sarah-paypal", "sarah", PAYPAL, t("2026-02-02 12:00"), paypal_email="sarah.williams@example.com"
    ),
    MethodSpec(
        "sophia-paypal",
        "sophia",
        PAYPAL,
        t("2026-03-08 19:10"),
        paypal_email="sophia.g.pay@example.net",
        default=True,
    ),
    MethodSpec(
        "daniel-mc", "daniel", CARD, t("2026-05-27 16:30"), Brand.MASTERCARD, "8210", (12, 2029), default=True
    ),
    # Jane's new card replaced the old one, which has since expired.
    MethodSpec(
        "jane-mc", "jane", CARD, t("2026-06-20 09:15"), Brand.MASTERCARD, "5454", (3, 2030), default=True
    ),
    MethodSpec("ava-visa", "ava", CARD, t("2026-08-30 21:20"), Brand.VISA, "3316", (7, 2030), default=True),
    MethodSpec(
        "ethan-paypal",
        "ethan",
        PAYPAL,
        t("2026-10-25 18:05"),
        paypal_email="ethan.nguyen@example.com",
        default=True,
    ),
    MethodSpec("ethan-visa", "ethan", CARD, t("2026-11-01 10:00"), Brand.VISA, "9034", (10, 2030)),
    MethodSpec("john-paypal", "john", PAYPAL, t("2026-11-16 11:50"), paypal_email="john.doe@example.com"),
]

PRODUCT_TYPES = [
    ("Electronics", "Audio, streaming, chargers and screens."),
    ("Books", "Fiction, cooking, programming and more, in print."),
    ("Clothing", "Everyday and outdoor clothing."),
    ("Home & Kitchen", "Cookware, knives and kitchen tools."),
    ("Sports & Outdoors", "Fitness gear, hydration and camping."),
]


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


def _products() -> list[ProductSpec]:
    rows = [
        # (type, created, [(name, sku, price, initial stock, low-stock threshold, description)])
        (
            "Electronics",
            "2026-08-03 15:00",
            [
                (
                    "Aurora Wireless Noise-Cancelling Headphones",
                    "EL-HDP-200",
                    "149.99",
                    8,
                    5,
                    "Over-ear Bluetooth 5.3 headphones with adaptive noise cancelling; 30-hour battery life.",
                ),
                (
                    "Volt 20,000 mAh Power Bank",
                    "EL-PWB-020",
                    "39.99",
                    60,
                    10,
                    "Charges two devices at once over USB-C PD (20 W) and USB-A; includes a USB-C cable.",
                ),
                (
                    "Lumen 4K Streaming Stick",
                    "EL-STR-4K1",
                    "49.99",
                    40,
                    8,
                    "4K HDR streaming with Dolby Vision and a voice remote. Plugs straight into HDMI.",
                ),
                (
                    "Pulse Fitness Tracker",
                    "EL-FIT-003",
                    "59.99",
                    25,
                    5,
                    "Heart rate, sleep and step tracking; water resistant to 50 m; 7-day battery.",
                ),
                (
                    'Clarity 27" QHD Monitor',
                    "EL-MON-27Q",
                    "279.00",
                    4,
                    2,
                    "27-inch 2560 x 1440 IPS panel, 144 Hz, height-adjustable stand, 65 W USB-C charging.",
                ),
                (
                    "7-in-1 USB-C Hub",
                    "EL-HUB-007",
                    "34.95",
                    45,
                    10,
                    "HDMI 4K60, two USB-A 3.0 ports, SD and microSD readers, 100 W pass-through charging.",
                ),
            ],
        ),
        (
            "Books",
            "2026-08-05 14:30",
            [
                (
                    "The Quiet Orchard (Hardcover)",
                    "BK-QUIET-HC",
                    "24.00",
                    30,
                    5,
                    "A family saga set over three generations on a Vermont apple farm. 384 pages.",
                ),
                (
                    "Practical Sourdough",
                    "BK-SOURDOUGH",
                    "29.95",
                    6,
                    4,
                    "Starter to loaf in one weekend: 60 recipes with step-by-step photos. Hardcover.",
                ),
                (
                    "Python for Data Wrangling, 3rd Edition",
                    "BK-PYDATA-3E",
                    "44.99",
                    20,
                    5,
                    "Cleaning, reshaping and analysing real data with pandas and Polars. Paperback, 540 pp.",
                ),
                (
                    "Atlas of the Night Sky",
                    "BK-NIGHTSKY",
                    "35.00",
                    15,
                    3,
                    "Star charts for every season, with observing notes for binoculars and small telescopes.",
                ),
                (
                    "Small Space Gardening",
                    "BK-SMALLGRDN",
                    "18.99",
                    25,
                    5,
                    "Growing vegetables and herbs on balconies, patios and windowsills. Paperback.",
                ),
            ],
        ),
        (
            "Clothing",
            "2026-08-10 16:00",
            [
                (
                    "Merino Crew Neck Sweater, Navy, M",
                    "CL-MER-NVY-M",
                    "89.00",
                    14,
                    4,
                    "Fine-gauge 100% merino wool; breathable, soft and machine washable on the wool cycle.",
                ),
                (
                    "Organic Cotton T-Shirt, White, L",
                    "CL-TEE-WHT-L",
                    "22.00",
                    30,
                    15,
                    "Heavyweight organic cotton crew neck tee with a relaxed fit.",
                ),
                (
                    "Trailhead Rain Jacket, Olive, M",
                    "CL-RNJ-OLV-M",
                    "129.00",
                    12,
                    3,
                    "Waterproof, breathable 2.5-layer shell with pit zips and a packable hood.",
                ),
                (
                    "Classic Slim Chinos, Khaki, 32x32",
                    "CL-CHN-KHK-3232",
                    "59.50",
                    18,
                    4,
                    "Stretch cotton twill chinos with a slim, tapered leg.",
                ),
                (
                    "Wool Blend Beanie, Charcoal",
                    "CL-BNE-CHR",
                    "19.99",
                    20,
                    10,
                    "Ribbed knit beanie in a warm wool and recycled nylon blend. One size.",
                ),
            ],
        ),
        (
            "Home & Kitchen",
            "2026-08-12 15:15",
            [
                (
                    'Cast Iron Skillet, 10"',
                    "HK-SKL-10",
                    "34.99",
                    30,
                    6,
                    "Pre-seasoned cast iron for searing, baking and campfire cooking. Oven safe to 500 °F.",
                ),
                (
                    "Pour-Over Coffee Kettle, 1 L",
                    "HK-KTL-1L",
                    "42.00",
                    20,
                    5,
                    "Stainless steel gooseneck kettle with a built-in thermometer; works on induction.",
                ),
                (
                    "Bamboo Cutting Board Set (3 pieces)",
                    "HK-CTB-3PC",
                    "27.50",
                    35,
                    6,
                    "Small, medium and large boards with juice grooves, made from organic bamboo.",
                ),
                (
                    "Ceramic Nonstick Saucepan, 2 qt",
                    "HK-SCP-2Q",
                    "39.00",
                    20,
                    5,
                    "PFAS-free ceramic coating, stay-cool handle and tempered glass lid.",
                ),
                (
                    "Chef's Knife, 8\"",
                    "HK-KNF-8",
                    "74.95",
                    6,
                    4,
                    "Forged German stainless steel, full tang, hand-sharpened to 15 degrees per side.",
                ),
            ],
        ),
        (
            "Sports & Outdoors",
            "2026-08-17 14:45",
            [
                (
                    "Yoga Mat, 6 mm",
                    "SP-YGM-6MM",
                    "32.00",
                    40,
                    8,
                    "Non-slip natural rubber mat with alignment lines; includes a carrying strap.",
                ),
                (
                    "Insulated Water Bottle, 32 oz",
                    "SP-BTL-32",
                    "27.95",
                    60,
                    12,
                    "Double-wall vacuum insulated stainless steel: cold for 24 hours, hot for 12.",
                ),
                (
                    "Adjustable Dumbbell, 5-25 lb",
                    "SP-DMB-25",
                    "119.00",
                    4,
                    2,
                    "Dial-select dumbbell replacing nine weights; sold individually.",
                ),
                (
                    "Trail Running Shoes, Men's 10",
                    "SP-TRS-10",
                    "109.99",
                    3,
                    4,
                    "Lightweight trail runners with a rock plate and 5 mm lugs for grip on loose ground.",
                ),
                (
                    "Camping Hammock",
                    "SP-HMK-01",
                    "49.00",
                    20,
                    4,
                    "Parachute nylon hammock for one, with tree straps and carabiners. Packs to fist size.",
                ),
                (
                    "Resistance Band Set (5 bands)",
                    "SP-RBS-5",
                    "24.99",
                    15,
                    5,
                    "Five latex loop bands from extra light to extra heavy. Discontinued by the supplier.",
                ),
            ],
        ),
    ]
    specs = []
    for type_name, start, items in rows:
        for index, (name, sku, price, stock, threshold, description) in enumerate(items):
            created = t(start) + datetime.timedelta(minutes=7 * index)
            specs.append(ProductSpec(type_name, name, sku, price, stock, threshold, description, created))
    return specs


PRODUCTS = _products()

# Goods received after the catalog was set up: (SKU, quantity, when, note).
RECEIPTS = [
    ("SP-TRS-10", 2, t("2026-10-30 14:00"), "PO-2026-1187 from Summit Footwear"),
    ("CL-TEE-WHT-L", 40, t("2026-11-03 15:00"), "PO-2026-1203 from Greenline Apparel"),
    ("CL-BNE-CHR", 30, t("2026-11-04 14:20"), "PO-2026-1209 from Greenline Apparel (winter restock)"),
]

# Stock corrections: (SKU, change, reason, when, note).
Reason = StockMovement.Reason
ADJUSTMENTS = [
    ("EL-MON-27Q", -1, Reason.DAMAGED, t("2026-10-20 14:30"), "Panel cracked in the warehouse; written off."),
    (
        "HK-CTB-3PC",
        1,
        Reason.FOUND,
        t("2026-10-28 13:00"),
        "Found a set behind the packing bench during the weekly count.",
    ),
    (
        "SP-RBS-5",
        -2,
        Reason.COUNT,
        t("2026-11-01 15:30"),
        "Cycle count before discontinuing: 12 on the shelf, 14 recorded.",
    ),
]

# Products taken off sale (no service for this: an admin edit of the product): (SKU, when).
DEACTIVATIONS = [("SP-RBS-5", t("2026-11-01 16:00"))]


@dataclass
class OrderSpec:
    key: str
    customer: str
    placed: datetime.datetime
    lines: list[tuple[str, int]]
    method: str | None = None
    address: str | None = None  # None: the customer's default shipping address
    pay: bool = True  # captured a minute after placing
    ship: tuple[str, datetime.datetime] | None = None  # (carrier, when)
    deliver: datetime.datetime | None = None
    cancel: tuple[datetime.datetime, str] | None = None  # (when, reason); reason may use {KEY}


ORDERS = [
    OrderSpec(
        "O1",
        "john",
        t("2026-10-05 15:12"),
        [("EL-HDP-200", 1), ("EL-HUB-007", 1)],
        "john-visa",
        ship=("UPS", t("2026-10-06 17:40")),
        deliver=t("2026-10-09 19:05"),
    ),
    OrderSpec(
        "O2",
        "emily",
        t("2026-10-07 14:03"),
        [("BK-SOURDOUGH", 1), ("BK-QUIET-HC", 1), ("BK-SMALLGRDN", 1)],
        "emily-paypal",
        ship=("USPS", t("2026-10-08 16:20")),
        deliver=t("2026-10-12 18:30"),
    ),
    OrderSpec(
        "O3",
        "michael",
        t("2026-10-09 20:21"),
        [("EL-MON-27Q", 1), ("EL-HUB-007", 1)],
        "michael-amex",
        ship=("FedEx", t("2026-10-10 15:05")),
        deliver=t("2026-10-14 17:48"),
    ),
    OrderSpec(
        "O4",
        "sarah",
        t("2026-10-12 13:45"),
        [("SP-YGM-6MM", 1), ("SP-BTL-32", 2), ("SP-RBS-5", 1)],
        "sarah-visa",
        ship=("UPS", t("2026-10-13 18:10")),
        deliver=t("2026-10-16 20:02"),
    ),
    OrderSpec(
        "O5",
        "jane",
        t("2026-10-14 15:30"),
        [("HK-KNF-8", 1), ("HK-SKL-10", 1), ("HK-CTB-3PC", 1)],
        "jane-mc",
        ship=("USPS", t("2026-10-15 17:25")),
        deliver=t("2026-10-19 16:40"),
    ),
    OrderSpec(
        "O6",
        "david",
        t("2026-10-16 18:05"),
        [("EL-STR-4K1", 2)],
        "david-paypal",
        cancel=(t("2026-10-17 14:15"), "Customer changed their mind before dispatch."),
    ),
    OrderSpec(
        "O7",
        "olivia",
        t("2026-10-19 16:20"),
        [("CL-MER-NVY-M", 2), ("CL-BNE-CHR", 1)],
        "olivia-visa",
        ship=("UPS", t("2026-10-20 19:00")),
        deliver=t("2026-10-23 17:15"),
    ),
    OrderSpec(
        "O8",
        "james",
        t("2026-10-22 16:40"),
        [("BK-PYDATA-3E", 1), ("BK-NIGHTSKY", 1)],
        "james-discover",
        pay=False,
        cancel=(t("2026-10-22 17:05"), "Duplicate: the customer re-ordered as {O9} with one more book."),
    ),
    OrderSpec(
        "O9",
        "james",
        t("2026-10-22 16:52"),
        [("BK-PYDATA-3E", 1), ("BK-NIGHTSKY", 1), ("BK-SMALLGRDN", 1)],
        "james-discover",
        ship=("FedEx", t("2026-10-24 14:30")),
        deliver=t("2026-10-28 18:22"),
    ),
    OrderSpec(
        "O10",
        "daniel",
        t("2026-10-27 18:10"),
        [("SP-DMB-25", 2)],
        "daniel-mc",
        ship=("FedEx", t("2026-10-29 15:45")),
        deliver=t("2026-11-03 19:30"),
    ),
    OrderSpec(
        "O11",
        "sophia",
        t("2026-11-02 19:30"),
        [("CL-RNJ-OLV-M", 1), ("CL-CHN-KHK-3232", 1), ("EL-HDP-200", 1)],
        "sophia-paypal",
        ship=("UPS", t("2026-11-03 16:00")),
        deliver=t("2026-11-06 18:45"),
    ),
    OrderSpec(
        "O12",
        "ethan",
        t("2026-11-05 03:15"),
        [("EL-MON-27Q", 1)],
        "ethan-paypal",
        ship=("FedEx", t("2026-11-06 17:20")),
        deliver=t("2026-11-10 21:05"),
    ),
    OrderSpec(
        "O13",
        "ava",
        t("2026-11-09 15:00"),
        [("EL-HDP-200", 2)],
        "ava-visa",
        cancel=(t("2026-11-09 20:30"), "Customer ordered two by mistake and asked to cancel."),
    ),
    OrderSpec(
        "O14",
        "michael",
        t("2026-11-12 22:10"),
        [("EL-MON-27Q", 1), ("EL-PWB-020", 1)],
        "michael-amex",
        ship=("FedEx", t("2026-11-16 15:40")),
    ),
    OrderSpec(
        "O15",
        "emily",
        t("2026-11-14 14:25"),
        [("CL-TEE-WHT-L", 3), ("CL-BNE-CHR", 2)],
        "emily-paypal",
        ship=("USPS", t("2026-11-17 16:10")),
    ),
    OrderSpec(
        "O16",
        "john",
        t("2026-11-16 12:01"),
        [("BK-SOURDOUGH", 1), ("HK-KTL-1L", 1)],
        "john-paypal",
        ship=("UPS", t("2026-11-18 17:35")),
    ),
    OrderSpec("O17", "sarah", t("2026-11-17 19:40"), [("SP-TRS-10", 1), ("SP-HMK-01", 1)], "sarah-visa"),
    OrderSpec(
        "O18", "olivia", t("2026-11-18 13:05"), [("SP-DMB-25", 2)], "olivia-visa", address="olivia-work"
    ),
    OrderSpec(
        "O19",
        "daniel",
        t("2026-11-18 23:20"),
        [("EL-FIT-003", 1), ("SP-YGM-6MM", 1)],
        "daniel-mc",
        address="daniel-parents",
    ),
    OrderSpec(
        "O20", "jane", t("2026-11-19 15:14"), [("EL-HDP-200", 1), ("HK-KNF-8", 1)], "jane-mc", pay=False
    ),
    # Taken over the phone; the customer will pay by invoice.
    OrderSpec("O21", "ava", t("2026-11-19 18:02"), [("HK-SKL-10", 1), ("HK-SCP-2Q", 1)], None, pay=False),
    OrderSpec("O22", "emily", t("2026-11-19 21:47"), [("CL-MER-NVY-M", 1)], "emily-paypal", pay=False),
]

# A delivered order from which the customer sent one item back: restocked and partly refunded.
RETURNS = [
    # (order key, SKU, quantity, when)
    ("O4", "SP-BTL-32", 1, t("2026-10-23 15:30")),
]

CAPTURE_DELAY = datetime.timedelta(minutes=1)


def tracking_number(carrier: str, order_pk: int) -> str:
    if carrier == "UPS":
        return f"1Z8A7V94{0x3D000000 + order_pk * 7919:010d}"
    if carrier == "USPS":
        return f"9400111202895{order_pk * 104729:09d}"
    if carrier == "FedEx":
        return f"7749{order_pk * 1046527:08d}"
    raise ValueError(carrier)


# --------------------------------------------------------------------------------------------
# The build
# --------------------------------------------------------------------------------------------

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
}


@contextmanager
def cards_checked_as_of(day: datetime.date):
    """Card expiry as of the fixture's "now", not the real date (PaymentMethod.is_expired reads
    date.today()), so a card that expires in real life later on never breaks a rebuild."""

    class Today(datetime.date):
        @classmethod
        def today(cls):
            return day

    with mock.patch.object(payment_models, "datetime", SimpleNamespace(date=Today)):
        yield


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
    def __init__(self):
        self.customers: dict[str, Customer] = {}
        self.addresses: dict[str, Address] = {}
        self.methods: dict[str, PaymentMethod] = {}
        self.types: dict[str, ProductType] = {}
        self.products: dict[str, Product] = {}
        self.orders: dict[str, Order] = {}
        self.steps: list[tuple[datetime.datetime, int, str, object]] = []

    def step(self, when, label, fn):
        self.steps.append((when, len(self.steps), label, fn))

    # --- steps ---

    def plan(self):
        for spec in CUSTOMERS:
            self.step(spec.created, f"customer {spec.key}", lambda when, s=spec: self.create_customer(s))
            for addr in spec.addresses:
                if addr.created:
                    self.step(
                        addr.created, f"address {addr.key}", lambda when, s=spec, a=addr: self.add(s, a)
                    )
        for spec in METHODS:
            self.step(spec.created, f"payment method {spec.key}", lambda when, s=spec: self.create_method(s))
        for spec in PRODUCTS:
            self.step(spec.created, f"product {spec.sku}", lambda when, s=spec: self.create_product(s))
        for sku, quantity, when, note in RECEIPTS:
            self.step(
                when,
                f"receive {sku}",
                lambda when, sku=sku, q=quantity, n=note: catalog_services.stock_receive(
                    product=self.products[sku], quantity=q, note=n
                ),
            )
        for sku, delta, reason, when, note in ADJUSTMENTS:
            self.step(
                when,
                f"adjust {sku}",
                lambda when, sku=sku, d=delta, r=reason, n=note: catalog_services.stock_adjust(
                    product=self.products[sku], delta=d, reason=r, note=n
                ),
            )
        for sku, when in DEACTIVATIONS:
            self.step(when, f"deactivate {sku}", lambda when, sku=sku: self.deactivate(sku, when))
        for spec in ORDERS:
            self.plan_order(spec)
        for order_key, sku, quantity, when in RETURNS:
            self.step(
                when,
                f"return {order_key}",
                lambda when, o=order_key, s=sku, q=quantity: self.ret(o, s, q, when),
            )

    def plan_order(self, spec: OrderSpec):
        self.step(spec.placed, f"place {spec.key}", lambda when: self.place(spec))
        if spec.pay:
            self.step(
                spec.placed + CAPTURE_DELAY, f"capture {spec.key}", lambda when: self.capture(spec, when)
            )
        if spec.ship:
            carrier, shipped = spec.ship
            self.step(shipped, f"ship {spec.key}", lambda when: self.ship(spec, carrier))
        if spec.deliver:
            self.step(spec.deliver, f"deliver {spec.key}", lambda when: self.deliver(spec, when))
        if spec.cancel:
            cancelled, reason = spec.cancel
            self.step(cancelled, f"cancel {spec.key}", lambda when: self.cancel(spec, reason, when))

    def run(self):
        self.plan()
        last = None
        for when, _, label, fn in sorted(self.steps, key=lambda s: (s[0], s[1])):
            if when >= DEMO_NOW:
                raise CommandError(f"Step {label} at {when} is not before {DEMO_NOW}.")
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
        self.methods[spec.key] = method

    def create_product(self, spec: ProductSpec):
        if spec.type not in self.types:
            description = dict(PRODUCT_TYPES)[spec.type]
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

    def capture(self, spec: OrderSpec, when):
        order = self.orders[spec.key]
        method = self.methods[spec.method]
        compact = order.number.replace("-", "")
        reference = f"ch_demo_{compact.lower()}" if method.kind == CARD else f"PAYID-DEMO-{compact}"
        payment_services.payment_capture(order=order, reference=reference)
        Order.objects.filter(pk=order.pk, status=OrderStatus.PAID).update(paid_at=when)

    def ship(self, spec: OrderSpec, carrier: str):
        order = self.orders[spec.key]
        order_services.order_ship(
            order=order, carrier=carrier, tracking_number=tracking_number(carrier, order.pk)
        )

    def deliver(self, spec: OrderSpec, when):
        order = self.orders[spec.key]
        order_services.order_deliver(order=order)
        Shipment.objects.filter(order=order).update(delivered_at=when)

    def cancel(self, spec: OrderSpec, reason: str, when):
        order = self.orders[spec.key]
        reason = reason.format(**{key: o.number for key, o in self.orders.items()})
        order_services.order_cancel(order=order, reason=reason)
        Order.objects.filter(pk=order.pk).update(cancelled_at=when)
        Payment.objects.filter(order=order, refunded_amount__gt=0).update(updated_at=when)

    def ret(self, order_key: str, sku: str, quantity: int, when):
        order = self.orders[order_key]
        product = self.products[sku]
        line = order.lines.get(product=product)
        catalog_services.stock_adjust(
            product=product,
            delta=quantity,
            reason=StockMovement.Reason.RETURN,
            note=f"Returned from {order.number}: {quantity} x {product.name}, unopened.",
        )
        order_services.order_add_note(
            order=order,
            message=f"Customer returned {quantity} x {product.name} (unopened); restocked and refunded.",
        )
        payment = order.payments.get()
        payment_services.payment_refund(
            payment=payment,
            amount=line.unit_price * quantity,
            reason=f"Return of {quantity} x {product.name}.",
        )
        Payment.objects.filter(pk=payment.pk).update(updated_at=when)

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


def problems() -> list[str]:
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
    for order in Order.objects.all():
        times = [order.created_at, order.paid_at]
        if hasattr(order, "shipment"):
            times += [order.shipment.shipped_at, order.shipment.delivered_at]
        times = [x for x in times if x]
        if times != sorted(times) or len(set(times)) != len(times):
            found.append(f"{order.number}: times out of order {times}")
    for model, fields in STAMPED_NEW_ROWS.items():
        for name in fields:
            late = model.objects.filter(**{f"{name}__gte": DEMO_NOW}).count()
            if late:
                found.append(f"{late} {model.__name__} rows with {name} not before {DEMO_NOW}")
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
        + f"; {Shipment.objects.count()} shipments, {OrderEvent.objects.count()} events, "
        f"{Payment.objects.count()} payments",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


class Command(BaseCommand):
    help = (
        "Build the demo fixture (default fixtures/demo.json) by running the real services in a "
        "throwaway SQLite database. The command migrates a new SQLite file in a temporary directory "
        "and re-runs itself there in a subprocess, so it never reads or writes the database in "
        "DATABASE_URL; the inner run refuses a database that already holds data. Timestamps are "
        f"fixed (everything before {DEMO_NOW:%Y-%m-%d}), so the output is the same on every run. "
        "Load the result with `manage.py loaddata demo`."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            default=str(Path(settings.BASE_DIR) / "fixtures" / "demo.json"),
            help="Where to write the fixture (default: fixtures/demo.json in the project).",
        )

    def handle(self, *args, output, verbosity, **options):
        self.verbosity = verbosity
        output = Path(output).resolve()
        build_db = os.environ.get(BUILD_DB_ENV)
        if build_db:
            self.build_here(Path(build_db), output)
        else:
            self.build_in_throwaway_db(output, verbosity)

    def build_in_throwaway_db(self, output: Path, verbosity: int):
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
                ["build_demo_fixture", "--output", str(output), "--verbosity", str(verbosity)],
            ]
            for command in commands:
                result = subprocess.run(
                    [sys.executable, str(manage_py), *command], env=env, cwd=settings.BASE_DIR, check=False
                )
                if result.returncode:
                    raise CommandError(f"`manage.py {' '.join(command)}` failed in the build database.")

    def build_here(self, db_path: Path, output: Path):
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

        with cards_checked_as_of(DEMO_NOW.date()):
            DemoBuilder().run()
        found = problems()
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
