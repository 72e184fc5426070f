"""Every migration runs forwards and backwards, and the models match the migrations.

The round trip runs `manage.py` in a subprocess against a throwaway database of the same kind as
the test database (a temporary SQLite file, or a fresh PostgreSQL/MariaDB database named after
the test database), so it neither disturbs the test database nor depends on its state.
"""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

pytestmark = pytest.mark.migrations

BASE_DIR = Path(settings.BASE_DIR)
# Dependants first: orders 0002 needs payments, payments needs orders 0001 and customers.
PROJECT_APPS = ["payments", "orders", "catalog", "customers"]
URL_SCHEMES = {"postgresql": "postgres", "mysql": "mysql"}


def database_url(settings_dict: dict, name: str) -> str:
    """A DATABASE_URL for database `name` on the server the test database lives on."""
    scheme = URL_SCHEMES[connection.vendor]
    credentials = quote(settings_dict["USER"] or "", safe="")
    if settings_dict["PASSWORD"]:
        credentials += ":" + quote(settings_dict["PASSWORD"], safe="")
    host = settings_dict["HOST"] or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    return f"{scheme}://{credentials}@{host}{port}/{name}"


@pytest.fixture
def throwaway_database_url(django_db_setup, django_db_blocker, tmp_path):
    """The URL of an empty database, dropped again after the test."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return

    name = f"{connection.settings_dict['NAME']}_migrations"
    quoted = connection.ops.quote_name(name)
    # Created like the test database (encoding, collation), on a connection to the server
    # rather than to a database: the one Django's own test-database creation uses.
    suffix = connection.creation.sql_table_creation_suffix()
    with django_db_blocker.unblock(), connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")
        cursor.execute(f"CREATE DATABASE {quoted} {suffix}")
    try:
        yield database_url(connection.settings_dict, name)
    finally:
        with django_db_blocker.unblock(), connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quoted}")


def run(url: str, *args: str) -> str:
    """Run `manage.py` with `args` against the database at `url`; fail with its output if it fails."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout


def schema_state(url: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The project's tables and applied migrations in the database at `url`."""
    script = (
        "import json;"
        "from django.db import connection;"
        "from django.db.migrations.recorder import MigrationRecorder;"
        "print(json.dumps([connection.introspection.table_names(),"
        " sorted(MigrationRecorder(connection).applied_migrations())]))"
    )
    output = run(url, "shell", "--no-imports", "--command", script)
    tables, applied = json.loads(output.strip().splitlines()[-1])
    return (
        sorted(t for t in tables if t.split("_", 1)[0] in PROJECT_APPS),
        [tuple(key) for key in applied if key[0] in PROJECT_APPS],
    )


def test_every_migration_can_be_unapplied_and_applied_again(throwaway_database_url):
    url = throwaway_database_url
    on_disk = sorted(key for key in MigrationLoader(None).disk_migrations if key[0] in PROJECT_APPS)

    run(url, "migrate", "--noinput")
    for app in PROJECT_APPS:
        run(url, "migrate", app, "zero", "--noinput")
    assert schema_state(url) == ([], [])

    run(url, "migrate", "--noinput")
    tables, applied = schema_state(url)
    assert applied == on_disk
    assert {t.split("_", 1)[0] for t in tables} == set(PROJECT_APPS)


@pytest.mark.django_db
def test_models_have_no_changes_missing_from_the_migrations():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit:
        pytest.fail(f"makemigrations found changes without a migration:\n{out.getvalue()}")
    assert "No changes detected" in out.getvalue()


def run_script(url: str, function: str):
    """Call tests.migration_data.`function` in `manage.py shell` against `url`; its JSON."""
    output = run(
        url,
        "shell",
        "--no-imports",
        "--command",
        f"from tests import migration_data; migration_data.{function}()",
    )
    return json.loads(output.strip().splitlines()[-1])


def test_fulfilment_migrations_turn_each_shipment_into_one_of_all_lines_and_back(throwaway_database_url):
    """From orders 0005 (one shipment per order, carrier as text) with orders in every status to
    0008 (several shipments with lines, carriers as rows), and back again."""
    url = throwaway_database_url
    run(url, "migrate", "orders", "0005_draft_orders", "--noinput")
    before = run_script(url, "seed_0005")
    assert {number: order["status"] for number, order in before.items()} == {
        "SO-000001": "draft",
        "SO-000002": "placed",
        "SO-000003": "paid",
        "SO-000004": "shipped",
        "SO-000005": "delivered",
        "SO-000006": "cancelled",
        "SO-000007": "delivered",
    }

    run(url, "migrate", "orders", "0008_carrier_required", "--noinput")
    after = run_script(url, "check_0008")
    orders, carriers = after["orders"], after["carriers"]
    expected_carrier = {"SO-000004": "ups", "SO-000005": "royal-mail", "SO-000007": "hermes-parcelnet"}
    for number, old in before.items():
        order = orders[number]
        assert order["status"] == old["status"]
        if old["shipment"] is None:
            # Nothing shipped: no shipment, nothing counted.
            assert order["shipments"] == []
            assert [line[2:] for line in order["lines"]] == [[0, 0], [0, 0]]
            continue
        # One shipment with every line whole, the counters equal to the quantities.
        _, tracking_number, status, shipped_at, delivered_at = old["shipment"]
        (shipment,) = order["shipments"]
        assert shipment == {
            "carrier": expected_carrier[number],
            "tracking_number": tracking_number,
            "status": status,
            "shipped_at": shipped_at,
            "delivered_at": delivered_at,
            "lines": old["lines"],
        }
        assert order["lines"] == [[sku, quantity, quantity, 0] for sku, quantity in old["lines"]]
    # The standard carriers, and one made for the name nothing matched.
    assert {"ups", "usps", "fedex", "dhl", "royal-mail", "courier"} <= set(carriers)
    assert carriers["hermes-parcelnet"] == ["Hermes Parcelnet", True, True]
    assert carriers["courier"] == ["Local courier", False, True]
    assert len(carriers) == 7

    run(url, "migrate", "orders", "0005_draft_orders", "--noinput")
    back = run_script(url, "check_0005")
    # The old shape again, the carrier as text: the carrier's name ("royal mail" was matched to
    # the standard Royal Mail, and comes back as its name).
    restored = {**before}
    restored["SO-000005"] = {
        **before["SO-000005"],
        "shipment": ["Royal Mail", *before["SO-000005"]["shipment"][1:]],
    }
    assert back["orders"] == restored
    assert back["second_shipment_refused"], "the shipment is one-to-one with its order again"


def test_migrating_back_is_refused_while_an_order_has_two_shipments(throwaway_database_url):
    url = throwaway_database_url
    run(url, "migrate", "orders", "0005_draft_orders", "--noinput")
    run_script(url, "seed_0005")
    run(url, "migrate", "orders", "0008_carrier_required", "--noinput")
    shipped_in_two = run_script(url, "ship_in_two_0008")
    assert len(shipped_in_two["orders"]["SO-000003"]["shipments"]) == 2  # a foreign key now

    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "orders", "0005_draft_orders", "--noinput"],
        cwd=BASE_DIR,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "Order SO-000003 has partial shipments or returns" in result.stderr
    assert "not migrated back, nothing changed" in result.stderr
    # Refused before any change: still at 0008, every row as it was.
    _, applied = schema_state(url)
    assert ("orders", "0008_carrier_required") in applied
    assert run_script(url, "check_0008") == shipped_in_two
