"""Word lists for `manage.py seed_scale` (shop/devtools/scale.py): names, places, products.

Plain data, no code. The seeder draws from these lists by position, so the same seed gives the
same rows only while they stay as they are: reordering or extending a list changes what a seed
produces (the determinism tests compare runs, not fixed rows).
"""

# First names, last names, street names and area codes: words separated by spaces.
FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard "
    "Susan Joseph Jessica Thomas Sarah Christopher Karen Charles Lisa Daniel Nancy Matthew Betty "
    "Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua "
    "Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy Stephanie Ronald "
    "Rebecca Jason Laura Edward Helen Jeffrey Sharon Ryan Cynthia Jacob Kathleen Gary Amy Nicholas "
    "Angela Eric Shirley Jonathan Anna Stephen Brenda Larry Pamela Justin Emma Scott Nicole Brandon "
    "Samantha Benjamin Katherine Samuel Christine Gregory Debra Alexander Rachel Frank Carolyn "
    "Patrick Janet Raymond Maria Jack Olivia Dennis Heather Jerry Diane Tyler Julie Aaron Joyce "
    "Jose Victoria Adam Ruth Nathan Virginia Henry Lauren Zachary Kelly Douglas Christina Peter "
    "Joan Kyle Evelyn Noah Judith Ethan Andrea Jeremy Hannah Walter Megan Christian Cheryl Keith "
    "Jacqueline Roger Martha Terry Madison Austin Teresa Sean Gloria Gerald Sara Carl Janice "
    "Harold Ann Dylan Kathryn Arthur Abigail Lawrence Sophia Jordan Frances Jesse Jean Bryan Alice "
    "Billy Judy Bruce Isabella Gabriel Julia Joe Grace Logan Amber Alan Denise Juan Danielle "
    "Albert Marilyn Willie Beverly Elijah Charlotte Wayne Natalie Randy Theresa Vincent Diana "
    "Mason Brittany Roy Doris Ralph Kayla Bobby Alexis Russell Lori Bradley Marie Philip Aisha "
    "Priya Wei Mei Hiroshi Yuki Carlos Lucia Mateo Sofia Omar Fatima Ivan Olga Kwame Amara"
)

LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill "
    "Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips "
    "Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers "
    "Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson "
    "Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo "
    "Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell "
    "Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson "
    "Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera "
    "Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez "
    "McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns "
    "Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt "
    "Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice "
    "Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn "
    "Kowalski Nakamura Okafor Haddad Novak Larsen O'Brien Dubois Rossi Schneider Yamamoto Singh"
)

STREETS = (
    "Main Oak Pine Maple Cedar Elm Washington Lake Hill Park Walnut Spring North Ridge Church "
    "Willow Mill Sunset Highland Jackson Lincoln Jefferson Madison Franklin Chestnut Meadow Forest "
    "River Valley Cherry Birch Dogwood Magnolia Sycamore Aspen Laurel Poplar Hickory Juniper"
)
STREET_SUFFIXES = ["St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way", "Pl", "Ter"]

# (city, state, first three digits of its ZIP codes)
US_CITIES = [
    ("New York", "NY", "100"),
    ("Brooklyn", "NY", "112"),
    ("Los Angeles", "CA", "900"),
    ("San Francisco", "CA", "941"),
    ("San Diego", "CA", "921"),
    ("Sacramento", "CA", "958"),
    ("Chicago", "IL", "606"),
    ("Houston", "TX", "770"),
    ("Austin", "TX", "787"),
    ("Dallas", "TX", "752"),
    ("San Antonio", "TX", "782"),
    ("Phoenix", "AZ", "850"),
    ("Tucson", "AZ", "857"),
    ("Philadelphia", "PA", "191"),
    ("Pittsburgh", "PA", "152"),
    ("Jacksonville", "FL", "322"),
    ("Miami", "FL", "331"),
    ("Orlando", "FL", "328"),
    ("Tampa", "FL", "336"),
    ("Columbus", "OH", "432"),
    ("Cleveland", "OH", "441"),
    ("Charlotte", "NC", "282"),
    ("Raleigh", "NC", "276"),
    ("Indianapolis", "IN", "462"),
    ("Seattle", "WA", "981"),
    ("Spokane", "WA", "992"),
    ("Denver", "CO", "802"),
    ("Boulder", "CO", "803"),
    ("Boston", "MA", "021"),
    ("Nashville", "TN", "372"),
    ("Memphis", "TN", "381"),
    ("Detroit", "MI", "482"),
    ("Portland", "OR", "972"),
    ("Las Vegas", "NV", "891"),
    ("Louisville", "KY", "402"),
    ("Baltimore", "MD", "212"),
    ("Milwaukee", "WI", "532"),
    ("Albuquerque", "NM", "871"),
    ("Atlanta", "GA", "303"),
    ("Minneapolis", "MN", "554"),
    ("New Orleans", "LA", "701"),
    ("Salt Lake City", "UT", "841"),
    ("Kansas City", "MO", "641"),
    ("Omaha", "NE", "681"),
    ("Richmond", "VA", "232"),
]
# A few customers abroad: (city, state, country, postal codes to pick from).
FOREIGN_CITIES = [
    ("Toronto", "ON", "CA", ("M5V 2T6", "M4C 1B5", "M6G 3A2")),
    ("Vancouver", "BC", "CA", ("V6B 1A1", "V5K 0A1", "V6E 4M3")),
    ("London", "", "GB", ("SW1A 2AA", "EC1A 1BB", "N1 9GU", "SE1 7PB")),
    ("Manchester", "", "GB", ("M1 1AE", "M4 5JD")),
    ("Dublin", "", "IE", ("D02 X285", "D08 VF8H")),
    ("Berlin", "", "DE", ("10115", "10245", "10437")),
    ("Sydney", "NSW", "AU", ("2000", "2010", "2031")),
]
AREA_CODES = "212 213 312 415 512 602 617 646 702 713 206 303 305 404 503 615 619 718 818 919"
DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com"]

# (type name, description, SKU prefix, price range in dollars, nouns, variants)
PRODUCT_TYPES = [
    (
        "Electronics",
        "Audio, streaming, chargers and screens.",
        "EL",
        (9, 450),
        "Headphones Earbuds Speaker Charger Power-Bank Cable Hub Monitor Keyboard Mouse Webcam "
        "Router Smartwatch Tablet-Stand Microphone Soundbar",
        "Black White Graphite Silver Blue Pro Mini Max Lite",
    ),
    (
        "Books",
        "Fiction, cooking, programming and more, in print.",
        "BK",
        (8, 60),
        "Novel Cookbook Atlas Guide Handbook Memoir Anthology Field-Guide Workbook Biography",
        "Hardcover Paperback Illustrated Revised 2nd-Edition 3rd-Edition Collector's",
    ),
    (
        "Clothing",
        "Everyday and outdoor clothing.",
        "CL",
        (12, 220),
        "T-Shirt Sweater Hoodie Jacket Chinos Jeans Beanie Scarf Socks Polo Rain-Shell Fleece",
        "XS S M L XL XXL Navy Olive Charcoal Heather",
    ),
    (
        "Home & Kitchen",
        "Cookware, knives and kitchen tools.",
        "HK",
        (6, 260),
        "Skillet Saucepan Kettle Knife Cutting-Board Mixing-Bowl Dutch-Oven Colander Grater "
        "French-Press Spatula-Set Storage-Jars",
        "Small Medium Large Stainless Ceramic Cast-Iron Bamboo Copper",
    ),
    (
        "Sports & Outdoors",
        "Fitness gear, hydration and camping.",
        "SP",
        (8, 300),
        "Yoga-Mat Water-Bottle Dumbbell Hammock Tent Sleeping-Bag Headlamp Trekking-Poles "
        "Resistance-Bands Jump-Rope Backpack",
        "Trail Summit Basecamp Ultralight Insulated Pro 20L 35L",
    ),
    (
        "Toys & Games",
        "Board games, puzzles and building sets.",
        "TG",
        (7, 150),
        "Board-Game Puzzle Building-Set Card-Game Plush Kite Marble-Run Train-Set",
        "Classic Deluxe Family Travel 500-Piece 1000-Piece Junior",
    ),
    (
        "Beauty & Personal Care",
        "Skin care, hair care and grooming.",
        "BP",
        (5, 90),
        "Moisturizer Cleanser Serum Shampoo Conditioner Sunscreen Lip-Balm Razor Hair-Dryer",
        "Travel-Size Unscented Sensitive SPF-30 SPF-50 Refill Family-Size",
    ),
    (
        "Garden",
        "Tools, seeds and planters.",
        "GD",
        (4, 180),
        "Planter Trowel Pruner Hose Watering-Can Seed-Kit Raised-Bed Compost-Bin Gloves",
        "Terracotta Galvanized Small Large Heirloom Organic",
    ),
    (
        "Office Supplies",
        "Paper, pens, desks and storage.",
        "OS",
        (3, 400),
        "Notebook Gel-Pens Desk-Lamp Stapler Monitor-Arm Desk-Organizer Whiteboard Chair-Mat",
        "A5 A4 Dotted Ruled Black Walnut Oak",
    ),
    (
        "Pet Supplies",
        "Food, toys and beds for pets.",
        "PT",
        (4, 140),
        "Dog-Bed Cat-Tree Leash Chew-Toy Litter-Box Food-Bowl Scratching-Post Carrier",
        "Small Medium Large Orthopedic Stainless Washable",
    ),
    (
        "Grocery",
        "Coffee, tea and pantry staples.",
        "GR",
        (3, 45),
        "Coffee-Beans Green-Tea Olive-Oil Maple-Syrup Honey Granola Dark-Chocolate Hot-Sauce",
        "250g 500g 1kg Organic Decaf Single-Origin Family-Pack",
    ),
    (
        "Health",
        "Supplements, first aid and wellness.",
        "HL",
        (5, 120),
        "Multivitamin First-Aid-Kit Thermometer Massage-Gun Heating-Pad Vitamin-D Fish-Oil",
        "30-Count 90-Count 180-Count Travel Family",
    ),
]

# Product names: "{brand} {noun}, {variant}".
PRODUCT_BRANDS = ("Aurora", "Summit", "Northwind", "Lumen", "Harbor", "Everline", "Kestrel", "Oakridge")

# Standard carriers (orders/carriers.py) by code; their tracking numbers never look like a card's.
CARRIERS = ("ups", "fedex", "dhl")
# Why goods came back: restocked (unopened, wrong size) or written off (damaged).
RETURN_REASONS = ("Changed their mind", "Wrong size", "Ordered by mistake", "Arrived too late")
DAMAGED_REASONS = ("Arrived damaged", "Faulty on arrival")
# Reasons an order was cancelled.
CANCEL_BEFORE_PAYMENT = ("Payment not received.", "Customer request.", "Duplicate order.")
CANCEL_AFTER_PAYMENT = (
    "Customer request.",
    "Item no longer needed.",
    "Address could not be verified.",
)
