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
