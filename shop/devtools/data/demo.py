"""The demo fixture's data: what `manage.py build_demo_fixture` makes `fixtures/demo.json` from.

Plain literals, no code. The builder turns them into its specs and runs the real services with
them, step by step in time order.

Times are "YYYY-MM-DD HH:MM" in UTC, all before TODAY (its midnight, UTC). Built for another day
(`--today`), every time moves by the same number of days and every card expiry by the same number
of months, so the story reads the same as of that day. Keys ("john", "john-home", "O1") name
rows for the rows that refer to them; they are not stored.
"""

# The day the data leads up to, and the default of `build_demo_fixture --today`.
TODAY = "2026-11-20"

# Customers with their addresses (created with the customer unless given a time; the default one
# is the default shipping and billing address; country US).
CUSTOMERS = [
    # The seed's three customers, exactly as given (country "USA" is the US).
    {
        "key": "john",
        "first_name": "John",
        "last_name": "Doe",
        "email": "john.doe@example.com",
        "phone": "555-123-4567",
        "created": "2025-02-11 14:03",
        "addresses": [
            {
                "key": "john-home",
                "line1": "123 Elm St",
                "city": "New York",
                "state": "NY",
                "postal_code": "10001",
            },
        ],
    },
    {
        "key": "jane",
        "first_name": "Jane",
        "last_name": "Smith",
        "email": "jane.smith@example.com",
        "phone": "555-987-6543",
        "created": "2025-03-02 18:21",
        "addresses": [
            {
                "key": "jane-home",
                "line1": "456 Oak St",
                "city": "Los Angeles",
                "state": "CA",
                "postal_code": "90001",
            },
        ],
    },
    {
        "key": "emily",
        "first_name": "Emily",
        "last_name": "Clark",
        "email": "emily.clark@example.com",
        "phone": "555-456-7890",
        "created": "2025-04-17 16:45",
        "addresses": [
            {
                "key": "emily-home",
                "line1": "789 Pine St",
                "city": "Chicago",
                "state": "IL",
                "postal_code": "60601",
            },
        ],
    },
    {
        "key": "michael",
        "first_name": "Michael",
        "last_name": "Johnson",
        "email": "michael.johnson@example.com",
        "phone": "512-555-0142",
        "created": "2025-06-08 20:12",
        "addresses": [
            {
                "key": "michael-home",
                "line1": "2200 S Congress Ave",
                "line2": "Apt 314",
                "city": "Austin",
                "state": "TX",
                "postal_code": "78704",
            },
        ],
    },
    {
        "key": "sarah",
        "first_name": "Sarah",
        "last_name": "Williams",
        "email": "sarah.williams@example.com",
        "phone": "206-555-0178",
        "created": "2025-07-22 17:30",
        "addresses": [
            {
                "key": "sarah-home",
                "line1": "1420 E Pine St",
                "city": "Seattle",
                "state": "WA",
                "postal_code": "98122",
            },
        ],
    },
    {
        "key": "david",
        "first_name": "David",
        "last_name": "Martinez",
        "email": "david.martinez@example.com",
        "phone": "602-555-0119",
        "created": "2025-09-14 15:55",
        "addresses": [
            {
                "key": "david-home",
                "line1": "3150 N Central Ave",
                "line2": "Unit 5",
                "city": "Phoenix",
                "state": "AZ",
                "postal_code": "85012",
            },
        ],
    },
    {
        "key": "olivia",
        "first_name": "Olivia",
        "last_name": "Brown",
        "email": "olivia.brown@example.com",
        "phone": "617-555-0163",
        "created": "2025-11-03 13:10",
        "addresses": [
            {
                "key": "olivia-home",
                "line1": "48 Beacon St",
                "city": "Boston",
                "state": "MA",
                "postal_code": "02108",
            },
            {
                "key": "olivia-work",
                "line1": "200 Clarendon St",
                "line2": "Floor 12",
                "city": "Boston",
                "state": "MA",
                "postal_code": "02116",
                "default": False,
                "created": "2026-06-12 14:25",
            },
        ],
    },
    {
        "key": "james",
        "first_name": "James",
        "last_name": "Wilson",
        "email": "james.wilson@example.com",
        "phone": "404-555-0127",
        "created": "2026-01-19 22:40",
        "addresses": [
            {
                "key": "james-home",
                "line1": "1065 Peachtree St NE",
                "city": "Atlanta",
                "state": "GA",
                "postal_code": "30309",
            },
        ],
    },
    {
        "key": "sophia",
        "first_name": "Sophia",
        "last_name": "Garcia",
        "email": "sophia.garcia@example.com",
        "phone": "305-555-0184",
        "created": "2026-03-08 19:05",
        "addresses": [
            {
                "key": "sophia-home",
                "line1": "1500 Collins Ave",
                "line2": "Apt 7B",
                "city": "Miami Beach",
                "state": "FL",
                "postal_code": "33139",
            },
        ],
    },
    {
        "key": "daniel",
        "first_name": "Daniel",
        "last_name": "Lee",
        "email": "daniel.lee@example.com",
        "phone": "303-555-0136",
        "created": "2026-05-27 16:20",
        "addresses": [
            {
                "key": "daniel-home",
                "line1": "1550 Larimer St",
                "line2": "Unit 802",
                "city": "Denver",
                "state": "CO",
                "postal_code": "80202",
            },
            # His parents' house: a gift order goes there.
            {
                "key": "daniel-parents",
                "line1": "2450 Mapleton Ave",
                "city": "Boulder",
                "state": "CO",
                "postal_code": "80304",
                "default": False,
                "created": "2026-11-18 23:10",
            },
        ],
    },
    {
        "key": "ava",
        "first_name": "Ava",
        "last_name": "Thompson",
        "email": "ava.thompson@example.com",
        "phone": "615-555-0191",
        "created": "2026-08-30 21:15",
        "addresses": [
            {
                "key": "ava-home",
                "line1": "700 Church St",
                "city": "Nashville",
                "state": "TN",
                "postal_code": "37203",
            },
        ],
    },
    {
        "key": "ethan",
        "first_name": "Ethan",
        "last_name": "Nguyen",
        "email": "ethan.nguyen@example.com",
        "phone": "503-555-0155",
        "created": "2026-10-25 18:02",
        "addresses": [
            {
                "key": "ethan-home",
                "line1": "1234 SE Division St",
                "city": "Portland",
                "state": "OR",
                "postal_code": "97202",
            },
        ],
    },
]

# Payment methods: a card keeps brand, last 4 digits and expiry (month, year); PayPal its email.
PAYMENT_METHODS = [
    {
        "key": "john-visa",
        "customer": "john",
        "kind": "card",
        "created": "2025-02-11 14:10",
        "brand": "visa",
        "last4": "4242",
        "expiry": (8, 2029),
        "default": True,
    },
    {
        "key": "jane-mc-old",
        "customer": "jane",
        "kind": "card",
        "created": "2025-03-02 18:30",
        "brand": "mastercard",
        "last4": "4444",
        "expiry": (6, 2026),
    },
    {
        "key": "emily-paypal",
        "customer": "emily",
        "kind": "paypal",
        "created": "2025-04-17 16:50",
        "paypal_email": "emily.clark@example.com",
        "default": True,
    },
    {
        "key": "michael-amex",
        "customer": "michael",
        "kind": "card",
        "created": "2025-06-08 20:20",
        "brand": "amex",
        "last4": "1005",
        "expiry": (11, 2028),
        "default": True,
    },
    {
        "key": "sarah-visa",
        "customer": "sarah",
        "kind": "card",
        "created": "2025-07-22 17:40",
        "brand": "visa",
        "last4": "1881",
        "expiry": (2, 2031),
        "default": True,
    },
    {
        "key": "david-paypal",
        "customer": "david",
        "kind": "paypal",
        "created": "2025-09-14 16:00",
        "paypal_email": "david.martinez@example.com",
        "default": True,
    },
    {
        "key": "olivia-visa",
        "customer": "olivia",
        "kind": "card",
        "created": "2025-11-03 13:20",
        "brand": "visa",
        "last4": "0077",
        "expiry": (9, 2029),
        "default": True,
    },
    {
        "key": "james-discover",
        "customer": "james",
        "kind": "card",
        "created": "2026-01-19 22:45",
        "brand": "discover",
        "last4": "1117",
        "expiry": (5, 2028),
        "default": True,
    },
    {
        "key": "sarah-paypal",
        "customer": "sarah",
        "kind": "paypal",
        "created": "2026-02-02 12:00",
        "paypal_email": "sarah.williams@example.com",
    },
    {
        "key": "sophia-paypal",
        "customer": "sophia",
        "kind": "paypal",
        "created": "2026-03-08 19:10",
        "paypal_email": "sophia.g.pay@example.net",
        "default": True,
    },
    {
        "key": "daniel-mc",
        "customer": "daniel",
        "kind": "card",
        "created": "2026-05-27 16:30",
        "brand": "mastercard",
        "last4": "8210",
        "expiry": (12, 2029),
        "default": True,
    },
    # Jane's new card replaced the old one, which has since expired.
    {
        "key": "jane-mc",
        "customer": "jane",
        "kind": "card",
        "created": "2026-06-20 09:15",
        "brand": "mastercard",
        "last4": "5454",
        "expiry": (3, 2030),
        "default": True,
    },
    {
        "key": "ava-visa",
        "customer": "ava",
        "kind": "card",
        "created": "2026-08-30 21:20",
        "brand": "visa",
        "last4": "3316",
        "expiry": (7, 2030),
        "default": True,
    },
    {
        "key": "ethan-paypal",
        "customer": "ethan",
        "kind": "paypal",
        "created": "2026-10-25 18:05",
        "paypal_email": "ethan.nguyen@example.com",
        "default": True,
    },
    {
        "key": "ethan-visa",
        "customer": "ethan",
        "kind": "card",
        "created": "2026-11-01 10:00",
        "brand": "visa",
        "last4": "9034",
        "expiry": (10, 2030),
    },
    {
        "key": "john-paypal",
        "customer": "john",
        "kind": "paypal",
        "created": "2026-11-16 11:50",
        "paypal_email": "john.doe@example.com",
    },
]

# (name, description)
PRODUCT_TYPES = [
    ("Electronics", "Audio, streaming, chargers and screens."),
    ("Books", "Fiction, cooking, programming and more, in print."),
    ("Clothing", "Everyday and outdoor clothing."),
    ("Home & Kitchen", "Cookware, knives and kitchen tools."),
    ("Sports & Outdoors", "Fitness gear, hydration and camping."),
]

# Products by type: (type, when the first was created (each next one 7 minutes later),
# [(name, SKU, price, initial stock, low-stock threshold, description)]).
PRODUCTS = [
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

# Goods received after the catalog was set up: (SKU, quantity, when, note).
RECEIPTS = [
    ("SP-TRS-10", 2, "2026-10-30 14:00", "PO-2026-1187 from Summit Footwear"),
    ("CL-TEE-WHT-L", 40, "2026-11-03 15:00", "PO-2026-1203 from Greenline Apparel"),
    ("CL-BNE-CHR", 30, "2026-11-04 14:20", "PO-2026-1209 from Greenline Apparel (winter restock)"),
]

# Stock corrections: (SKU, change, reason, when, note).
ADJUSTMENTS = [
    ("EL-MON-27Q", -1, "damaged", "2026-10-20 14:30", "Panel cracked in the warehouse; written off."),
    (
        "HK-CTB-3PC",
        1,
        "found",
        "2026-10-28 13:00",
        "Found a set behind the packing bench during the weekly count.",
    ),
    (
        "SP-RBS-5",
        -2,
        "count",
        "2026-11-01 15:30",
        "Cycle count before discontinuing: 12 on the shelf, 14 recorded.",
    ),
]

# Products taken off sale (no service for this: an admin edit of the product): (SKU, when).
DEACTIVATIONS = [("SP-RBS-5", "2026-11-01 16:00")]

# Orders, each with what happened to it. `lines`: (SKU, quantity); `method` absent: no saved
# payment method; `address` absent: the customer's default shipping address; `pay` (default true):
# captured CAPTURE_DELAY_MINUTES after placing; `ship`: (carrier, when), all of it in one parcel,
# and `deliver`: when it arrived; or `shipments`: the parcels one by one, each {"carrier", "at",
# "lines": [(SKU, quantity)] (absent: all that is left), "delivered" (absent: in transit)};
# carriers are the standard ones (orders/carriers.py) by name; `cancel`: (when, reason), the
# reason may name another order's number as {KEY}.
ORDERS = [
    {
        "key": "O1",
        "customer": "john",
        "placed": "2026-10-05 15:12",
        "lines": [("EL-HDP-200", 1), ("EL-HUB-007", 1)],
        "method": "john-visa",
        "ship": ("UPS", "2026-10-06 17:40"),
        "deliver": "2026-10-09 19:05",
    },
    {
        "key": "O2",
        "customer": "emily",
        "placed": "2026-10-07 14:03",
        "lines": [("BK-SOURDOUGH", 1), ("BK-QUIET-HC", 1), ("BK-SMALLGRDN", 1)],
        "method": "emily-paypal",
        "ship": ("USPS", "2026-10-08 16:20"),
        "deliver": "2026-10-12 18:30",
    },
    {
        "key": "O3",
        "customer": "michael",
        "placed": "2026-10-09 20:21",
        "lines": [("EL-MON-27Q", 1), ("EL-HUB-007", 1)],
        "method": "michael-amex",
        "ship": ("FedEx", "2026-10-10 15:05"),
        "deliver": "2026-10-14 17:48",
    },
    {
        "key": "O4",
        "customer": "sarah",
        "placed": "2026-10-12 13:45",
        "lines": [("SP-YGM-6MM", 1), ("SP-BTL-32", 2), ("SP-RBS-5", 1)],
        "method": "sarah-visa",
        "ship": ("UPS", "2026-10-13 18:10"),
        "deliver": "2026-10-16 20:02",
    },
    {
        "key": "O5",
        "customer": "jane",
        "placed": "2026-10-14 15:30",
        "lines": [("HK-KNF-8", 1), ("HK-SKL-10", 1), ("HK-CTB-3PC", 1)],
        "method": "jane-mc",
        "ship": ("USPS", "2026-10-15 17:25"),
        "deliver": "2026-10-19 16:40",
    },
    {
        "key": "O6",
        "customer": "david",
        "placed": "2026-10-16 18:05",
        "lines": [("EL-STR-4K1", 2)],
        "method": "david-paypal",
        "cancel": ("2026-10-17 14:15", "Customer changed their mind before dispatch."),
    },
    {
        "key": "O7",
        "customer": "olivia",
        "placed": "2026-10-19 16:20",
        "lines": [("CL-MER-NVY-M", 2), ("CL-BNE-CHR", 1)],
        "method": "olivia-visa",
        "ship": ("UPS", "2026-10-20 19:00"),
        "deliver": "2026-10-23 17:15",
    },
    {
        "key": "O8",
        "customer": "james",
        "placed": "2026-10-22 16:40",
        "lines": [("BK-PYDATA-3E", 1), ("BK-NIGHTSKY", 1)],
        "method": "james-discover",
        "pay": False,
        "cancel": ("2026-10-22 17:05", "Duplicate: the customer re-ordered as {O9} with one more book."),
    },
    {
        "key": "O9",
        "customer": "james",
        "placed": "2026-10-22 16:52",
        "lines": [("BK-PYDATA-3E", 1), ("BK-NIGHTSKY", 1), ("BK-SMALLGRDN", 1)],
        "method": "james-discover",
        "ship": ("FedEx", "2026-10-24 14:30"),
        "deliver": "2026-10-28 18:22",
    },
    {
        "key": "O10",
        "customer": "daniel",
        "placed": "2026-10-27 18:10",
        "lines": [("SP-DMB-25", 2)],
        "method": "daniel-mc",
        "ship": ("FedEx", "2026-10-29 15:45"),
        "deliver": "2026-11-03 19:30",
    },
    {
        "key": "O11",
        "customer": "sophia",
        "placed": "2026-11-02 19:30",
        "lines": [("CL-RNJ-OLV-M", 1), ("CL-CHN-KHK-3232", 1), ("EL-HDP-200", 1)],
        "method": "sophia-paypal",
        # Shipped in two parts: the clothes from the main warehouse, the headphones from the
        # electronics stock room two days later.
        "shipments": [
            {
                "carrier": "UPS",
                "at": "2026-11-03 16:00",
                "lines": [("CL-RNJ-OLV-M", 1), ("CL-CHN-KHK-3232", 1)],
                "delivered": "2026-11-06 18:45",
            },
            {"carrier": "DHL", "at": "2026-11-05 15:30", "delivered": "2026-11-07 17:20"},
        ],
    },
    {
        "key": "O12",
        "customer": "ethan",
        "placed": "2026-11-05 03:15",
        "lines": [("EL-MON-27Q", 1)],
        "method": "ethan-paypal",
        "ship": ("FedEx", "2026-11-06 17:20"),
        "deliver": "2026-11-10 21:05",
    },
    {
        "key": "O13",
        "customer": "ava",
        "placed": "2026-11-09 15:00",
        "lines": [("EL-HDP-200", 2)],
        "method": "ava-visa",
        "cancel": ("2026-11-09 20:30", "Customer ordered two by mistake and asked to cancel."),
    },
    {
        "key": "O14",
        "customer": "michael",
        "placed": "2026-11-12 22:10",
        "lines": [("EL-MON-27Q", 1), ("EL-PWB-020", 1)],
        "method": "michael-amex",
        "ship": ("FedEx", "2026-11-16 15:40"),
    },
    {
        "key": "O15",
        "customer": "emily",
        "placed": "2026-11-14 14:25",
        "lines": [("CL-TEE-WHT-L", 3), ("CL-BNE-CHR", 2)],
        "method": "emily-paypal",
        "ship": ("USPS", "2026-11-17 16:10"),
    },
    {
        "key": "O16",
        "customer": "john",
        "placed": "2026-11-16 12:01",
        "lines": [("BK-SOURDOUGH", 1), ("HK-KTL-1L", 1)],
        "method": "john-paypal",
        "ship": ("UPS", "2026-11-18 17:35"),
    },
    {
        "key": "O17",
        "customer": "sarah",
        "placed": "2026-11-17 19:40",
        "lines": [("SP-TRS-10", 1), ("SP-HMK-01", 1)],
        "method": "sarah-visa",
        # The hammock went ahead; the shoes wait for the next delivery from the supplier.
        "shipments": [{"carrier": "USPS", "at": "2026-11-18 16:30", "lines": [("SP-HMK-01", 1)]}],
    },
    {
        "key": "O18",
        "customer": "olivia",
        "placed": "2026-11-18 13:05",
        "lines": [("SP-DMB-25", 2)],
        "method": "olivia-visa",
        "address": "olivia-work",
    },
    {
        "key": "O19",
        "customer": "daniel",
        "placed": "2026-11-18 23:20",
        "lines": [("EL-FIT-003", 1), ("SP-YGM-6MM", 1)],
        "method": "daniel-mc",
        "address": "daniel-parents",
        # The mat went by the local courier (untracked); the tracker still to ship.
        "shipments": [{"carrier": "Local courier", "at": "2026-11-19 14:10", "lines": [("SP-YGM-6MM", 1)]}],
    },
    {
        "key": "O20",
        "customer": "jane",
        "placed": "2026-11-19 15:14",
        "lines": [("EL-HDP-200", 1), ("HK-KNF-8", 1)],
        "method": "jane-mc",
        "pay": False,
    },
    # Taken over the phone; the customer will pay by invoice.
    {
        "key": "O21",
        "customer": "ava",
        "placed": "2026-11-19 18:02",
        "lines": [("HK-SKL-10", 1), ("HK-SCP-2Q", 1)],
        "pay": False,
    },
    {
        "key": "O22",
        "customer": "emily",
        "placed": "2026-11-19 21:47",
        "lines": [("CL-MER-NVY-M", 1)],
        "method": "emily-paypal",
    },
    # Taken by the order desk for an invoice: the customer paid part of it by bank transfer so
    # far ("offline_payment": when, how, amount, reference).
    {
        "key": "O23",
        "customer": "sophia",
        "placed": "2026-11-19 22:05",
        "lines": [("EL-PWB-020", 2), ("EL-STR-4K1", 1)],
        "pay": False,
        "offline_payment": ("2026-11-19 23:12", "bank_transfer", "50.00", "TRF-20261119-0412"),
    },
    # A phone order staff started and have not placed yet: a draft holds no stock ("placed"
    # is when the draft was started).
    {
        "key": "O24",
        "customer": "david",
        "placed": "2026-11-19 22:41",
        "lines": [("EL-PWB-020", 1), ("BK-QUIET-HC", 1)],
        "pay": False,
        "draft": True,
    },
]

# Goods customers sent back (orders.services.order_return): `lines`: (SKU, quantity, restocked:
# back on the shelf, or written off as damaged); `refund` (default true): the lines' prices
# refunded, and the shipping charge too with `refund_shipping`.
RETURNS = [
    # A gift the recipient already had: all three books back, unopened, shipping refunded too.
    {
        "order": "O2",
        "at": "2026-10-16 14:40",
        "lines": [("BK-SOURDOUGH", 1, True), ("BK-QUIET-HC", 1, True), ("BK-SMALLGRDN", 1, True)],
        "refund_shipping": True,
        "reason": "A gift: the recipient already had all three; returned unopened",
    },
    # One of two bottles back, unopened: restocked and refunded.
    {
        "order": "O4",
        "at": "2026-10-23 15:30",
        "lines": [("SP-BTL-32", 1, True)],
        "reason": "Ordered one too many; returned unopened",
    },
    # The sweaters came back in two parcels, and the beanie with the second.
    {
        "order": "O7",
        "at": "2026-10-27 16:05",
        "lines": [("CL-MER-NVY-M", 1, True)],
        "reason": "Too small",
    },
    {
        "order": "O7",
        "at": "2026-10-31 15:20",
        "lines": [("CL-MER-NVY-M", 1, True), ("CL-BNE-CHR", 1, True)],
        "reason": "The second sweater is too small as well; the beanie was meant to match",
    },
    # One of two dumbbells arrived with a cracked dial: written off, refunded.
    {
        "order": "O10",
        "at": "2026-11-05 14:25",
        "lines": [("SP-DMB-25", 1, False)],
        "reason": "Arrived with a cracked selector dial (photo on file)",
    },
]

# How long after placing a paid order its payment is captured.
CAPTURE_DELAY_MINUTES = 1
