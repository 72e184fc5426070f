"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Screenshots of every step go to artifacts/screenshots/ (CI prints the list).
"""

import importlib
import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make around
# it are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
ROLE_MIGRATIONS = Path(__file__).resolve().parents[2] / "shop" / "migrations"

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def shot(request):
    """shot(page, "step") saves artifacts/screenshots/<test>-<n>-<step>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    counter = {"n": 0}
    test = request.node.name.replace("[", "-").replace("]", "")

    def take(page, step):
        counter["n"] += 1
        path = SCREENSHOTS / f"{test}-{counter['n']:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def roles(transactional_db):
    """The role groups (a transactional test's flush removes what the migration created)."""
    from django.apps import apps

    importlib.import_module("shop.migrations.0001_roles").create_roles(apps, None)
    # The grants that later migrations added to the roles (anonymize, order desk...).
    for module in sorted(path.stem for path in ROLE_MIGRATIONS.glob("0*.py")):
        migration = importlib.import_module(f"shop.migrations.{module}")
        if hasattr(migration, "grant"):
            migration.grant(apps, None)


@pytest.fixture
def login(live_server, roles):
    """login(page, username) creates a staff user in the role and signs in through the form."""
    from django.contrib.auth.models import Group

    from tests.factories import SuperuserFactory, UserFactory

    def sign_in(page, username, role=None):
        if role is None:
            SuperuserFactory(username=username)
        else:
            UserFactory(username=username).groups.add(Group.objects.get(name=role))
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", "correct-horse-battery")
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")

    return sign_in


@pytest.fixture
def demo(transactional_db):
    """The demo data (`manage.py loaddata demo`): customers, products, orders in every status."""
    from django.core.management import call_command

    call_command("loaddata", "demo", verbosity=0)
