"""Soak run: 10,000 operations from 8 concurrent worker processes on PostgreSQL, then every
cross-table rule is checked and the outcome of each kind of operation is counted.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_soak python -m bench.soak [--ops 10000] [--workers 8]

The database must be migrated; the run adds its own products, customers and orders to it.
Exits non-zero if any rule is broken or any operation failed with something other than a
refusal the shop explains (a ShopError).
"""

import argparse
import collections
import multiprocessing
import os
import random
import sys
import time

WEIGHTS = {
    "place": 40,
    "pay": 16,
    "ship": 12,
    "deliver": 8,
    "cancel": 8,
    "refund": 6,
    "receive": 10,
}


def _setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    import django

    django.setup()


def prepare(products: int, customers: int, tag: str):
    from catalog.models import ProductType
    from catalog.services import product_create
    from customers.models import Address, Customer
    from payments.models import PaymentMethod

    kind, _ = ProductType.objects.get_or_create(name="Soak")
    product_ids = [
        product_create(
            name=f"Soak product {i}",
            sku=f"SOAK-{tag}-{i}",
            product_type=kind,
            price=f"{5 + i % 40}.99",
            initial_stock=random.Random(i).randint(5, 40),
        ).pk
        for i in range(products)
    ]
    customer_ids = []
    for i in range(customers):
        customer = Customer.objects.create(
            first_name="Soak", last_name=f"Customer {i}", email=f"soak-{tag}-{i}@example.com"
        )
        Address.objects.create(
            customer=customer,
            line1=f"{i} Soak Street",
            city="Springfield",
            state="IL",
            postal_code="62701",
            country="US",
            is_default_shipping=True,
        )
        PaymentMethod.objects.create(
            customer=customer,
            kind="card",
            brand="visa",
            last4=f"{i % 10000:04d}",
            exp_month=12,
            exp_year=2035,
            gateway_token=f"tok_soak_{tag}_{i}",
            is_default=True,
        )
        customer_ids.append(customer.pk)
    return product_ids, customer_ids


def _pick_order(status, rng):
    from orders.models import Order

    bounds = Order.objects.filter(status=status).order_by("pk").values_list("pk", flat=True)
    first = bounds.first()
    if first is None:
        return None
    last = Order.objects.filter(status=status).order_by("-pk").values_list("pk", flat=True).first()
    start = rng.randint(first, last)
    return Order.objects.filter(status=status, pk__gte=start).order_by("pk").first()


def worker(index, ops, product_ids, customer_ids, seed, results):
    _setup_django()
    from django.db import connection

    from catalog.models import Product
    from catalog.services import stock_receive
    from customers.models import Customer
    from orders.services import order_cancel, order_deliver, order_place, order_ship
    from payments.models import Payment
    from payments.services import payment_capture, payment_refund
    from shop.core.exceptions import ShopError

    rng = random.Random(seed * 1000 + index)
    counts = collections.Counter()
    kinds, weights = zip(*WEIGHTS.items(), strict=True)
    for _ in range(ops):
        op = rng.choices(kinds, weights)[0]
        try:
            if op == "place":
                customer = Customer.objects.get(pk=rng.choice(customer_ids))
                chosen = rng.sample(product_ids, rng.randint(1, 3))
                lines = [(p, rng.randint(1, 3)) for p in Product.objects.filter(pk__in=chosen)]
                order_place(customer=customer, lines=lines, payment_method=customer.payment_methods.first())
            elif op == "pay":
                order = _pick_order("placed", rng)
                if order is None:
                    counts[(op, "nothing to do")] += 1
                    continue
                payment_capture(order=order, reference=f"soak-{index}")
            elif op == "ship":
                order = _pick_order("paid", rng)
                if order is None:
                    counts[(op, "nothing to do")] += 1
                    continue
                order_ship(order=order, carrier="UPS", tracking_number=f"1ZSOAK{order.pk}")
            elif op == "deliver":
                order = _pick_order("shipped", rng)
                if order is None:
                    counts[(op, "nothing to do")] += 1
                    continue
                order_deliver(order=order)
            elif op == "cancel":
                order = _pick_order(rng.choice(["placed", "paid"]), rng)
                if order is None:
                    counts[(op, "nothing to do")] += 1
                    continue
                order_cancel(order=order, reason="soak")
            elif op == "refund":
                payment = (
                    Payment.objects.filter(status="captured", order__status="delivered").order_by("?").first()
                )
                if payment is None:
                    counts[(op, "nothing to do")] += 1
                    continue
                payment_refund(payment=payment, amount=payment.refundable_amount / 2 or None)
            elif op == "receive":
                stock_receive(
                    product=Product.objects.get(pk=rng.choice(product_ids)),
                    quantity=rng.randint(1, 10),
                )
            counts[(op, "ok")] += 1
        except ShopError as error:
            counts[(op, f"refused: {type(error).__name__}")] += 1
        except Exception as error:
            counts[(op, f"ERROR: {type(error).__name__}: {error}"[:120])] += 1
    connection.close()
    results.put(dict(counts))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--products", type=int, default=40)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    _setup_django()
    from django.db import connection

    from shop.backoffice.integrity import find_violations

    if connection.vendor != "postgresql":
        sys.exit("The soak run needs PostgreSQL: set DATABASE_URL=postgres://...")
    random.seed(args.seed)
    tag = f"{args.seed}-{int(time.time())}"
    product_ids, customer_ids = prepare(args.products, args.customers, tag)
    connection.close()

    results = multiprocessing.get_context("fork").Queue()
    per_worker = [args.ops // args.workers + (i < args.ops % args.workers) for i in range(args.workers)]
    started = time.monotonic()
    processes = [
        multiprocessing.get_context("fork").Process(
            target=worker, args=(i, per_worker[i], product_ids, customer_ids, args.seed, results)
        )
        for i in range(args.workers)
    ]
    for process in processes:
        process.start()
    totals = collections.Counter()
    for _ in processes:
        totals.update(results.get(timeout=3600))
    for process in processes:
        process.join()
    elapsed = time.monotonic() - started

    print(
        f"\n{sum(totals.values())} operations from {args.workers} workers in {elapsed:.1f} s "
        f"({sum(totals.values()) / elapsed:.0f} ops/s)\n"
    )
    print(f"{'operation':<10} {'outcome':<48} {'count':>7}")
    for (op, outcome), count in sorted(totals.items()):
        print(f"{op:<10} {outcome:<48} {count:>7}")
    problems = find_violations()
    errors = sum(count for (_, outcome), count in totals.items() if outcome.startswith("ERROR"))
    print(f"\ninvariants: {'all hold' if not problems else f'{len(problems)} broken'}; errors: {errors}")
    for problem in problems:
        print("  ", problem)
    return 1 if problems or errors else 0


if __name__ == "__main__":
    sys.exit(main())
