"""Content-Security-Policy: every page carries the header, and no page holds what it refuses.

The walk visits, as a superuser on the demo data, every registered admin's list, add page, an
object's page, its history and delete pages, every staff operation's page (for an object that can
take the step) and selection page, the import and export pages; then the login page, the lockout
page, a 404, a 500 and the 503 page. Each response must carry the policy; each HTML page must hold
nothing the policy would block: no inline script (only files and JSON data blocks), no event
handler attributes or `javascript:` links, no style attributes, `<style>` only with the response's
nonce, scripts and style sheets only from this site. The real-browser counterpart (violation
reports, console errors) is tests/browser/test_csp_browser.py.
"""

import re
from html.parser import HTMLParser
from unittest import mock

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import OperationalError
from django.test import Client, override_settings
from django.urls import NoReverseMatch, reverse

from orders.models import Order
from tests.factories import SuperuserFactory, UserFactory

REQUIRED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_policy(response):
    directives = policy(response)
    for name, value in REQUIRED.items():
        assert directives.get(name) == [value], (name, directives.get(name))
    for name, values in directives.items():
        assert "'unsafe-inline'" not in values and "'unsafe-eval'" not in values, (name, values)
    return directives


class _InlineFinder(HTMLParser):
    """What on a page a policy without 'unsafe-inline' would block (or load from elsewhere)."""

    def __init__(self, nonce: str | None):
        super().__init__()
        self.nonce = nonce
        self.problems: list[str] = []
        self._script_inline = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> (event handler attribute)")
            if name == "style":
                self.problems.append(f"<{tag} style={value!r}> (style attribute)")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}={value!r}> (javascript: URL)")
        if tag == "script":
            src = attrs.get("src")
            if src is not None:
                if not src.startswith("/") or src.startswith("//"):
                    self.problems.append(f"<script src={src!r}> (not this site)")
            elif attrs.get("type") not in ("application/json", "application/ld+json"):
                self._script_inline = True
        if tag == "link" and "stylesheet" in (attrs.get("rel") or "").split():
            href = attrs.get("href") or ""
            if not href.startswith("/") or href.startswith("//"):
                self.problems.append(f"<link stylesheet {href!r}> (not this site)")
        if tag == "style" and (not self.nonce or attrs.get("nonce") != self.nonce):
            self.problems.append(f"<style nonce={attrs.get('nonce')!r}> without the response's nonce")

    def handle_data(self, data):
        if self._script_inline and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:80]!r}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._script_inline = False


def inline_problems(response) -> list[str]:
    directives = policy(response)
    nonces = [v[len("'nonce-") : -1] for v in directives.get("style-src", []) if v.startswith("'nonce-")]
    finder = _InlineFinder(nonces[0] if nonces else None)
    finder.feed(response.content.decode())
    return finder.problems


def check_page(response, seen: dict):
    path = response.request["PATH_INFO"]
    assert_policy(response)
    if "text/html" in response.get("Content-Type", ""):
        problems = inline_problems(response)
        assert not problems, f"{path}: {problems}"
    seen[path] = response.status_code


def _reverse(name, *args):
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


@pytest.fixture
def demo_admin(db, client):
    call_command("loaddata", "demo", verbosity=0)
    client.force_login(SuperuserFactory(username="walker"))
    return client


def test_every_admin_page_carries_the_policy_and_nothing_it_blocks(demo_admin):
    client, seen = demo_admin, {}
    check_page(client.get(reverse("admin:index")), seen)
    check_page(client.get(reverse("admin:password_change")), seen)
    for model, model_admin in admin.site._registry.items():
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        check_page(client.get(reverse("admin:app_list", args=[model._meta.app_label])), seen)
        check_page(client.get(reverse(f"{info}_changelist")), seen)
        check_page(client.get(reverse(f"{info}_changelist"), {"q": "<script>x</script>", "o": "1"}), seen)
        check_page(client.get(reverse(f"{info}_add")), seen)  # a 403 where rows come from services
        objects = list(model._default_manager.order_by("pk")[:50])
        if objects:
            obj = objects[0]
            check_page(client.get(reverse(f"{info}_change", args=[obj.pk])), seen)
            check_page(client.get(reverse(f"{info}_history", args=[obj.pk])), seen)
            check_page(client.get(reverse(f"{info}_delete", args=[obj.pk])), seen)
        for url in (_reverse(f"{info}_export"), _reverse(f"{info}_import")):
            if url:
                check_page(client.get(url), seen)
        for operation in getattr(model_admin, "operations", []):
            ready = [o for o in objects if not operation.blocked_reason(o)]
            if ready:
                check_page(client.get(reverse(f"{info}_{operation.name}", args=[ready[0].pk])), seen)
            if operation.action and objects:
                response = client.post(
                    reverse(f"{info}_changelist"),
                    {
                        "action": operation.action,
                        "_selected_action": [o.pk for o in objects[:3]],
                        "index": "0",
                    },
                )
                check_page(response, seen)
    # A fair walk: every kind of page was there (a broken fixture would make this test vacuous).
    pages = [path for path, status in seen.items() if status == 200]
    assert len(pages) > 80, len(pages)
    for expected in ("/ship/", "/receive-stock/", "/export/", "/import/", "/history/", "/delete/", "/add/"):
        assert any(expected in path for path in pages), expected


def test_the_dashboard_styles_come_with_the_nonce_of_their_own_response(demo_admin):
    first, second = demo_admin.get("/admin/"), demo_admin.get("/admin/")
    nonce = [v for v in policy(first)["style-src"] if v.startswith("'nonce-")]
    assert len(nonce) == 1 and nonce != [v for v in policy(second)["style-src"] if v.startswith("'nonce-")]
    assert re.search(rf'<style nonce="{re.escape(nonce[0][7:-1])}">', first.content.decode())
    assert "<svg" in first.content.decode()  # the inline SVG chart is markup, which the policy allows


def test_login_logout_404_500_and_503_carry_the_policy(db):
    seen = {}
    anonymous = Client()
    check_page(anonymous.get(reverse("admin:login")), seen)
    check_page(anonymous.get("/admin/orders/order/"), seen)  # the redirect to the login page
    check_page(anonymous.get("/"), seen)
    check_page(anonymous.get("/no/such/page/"), seen)
    assert seen["/no/such/page/"] == 404

    staff = Client()
    staff.force_login(SuperuserFactory())
    check_page(staff.get("/admin/orders/order/abc/change/"), seen)  # a 404 inside the admin
    check_page(staff.post(reverse("admin:logout")), seen)

    staff.force_login(SuperuserFactory())
    with mock.patch.object(Order.objects, "get_queryset", side_effect=OperationalError("gone")):
        response = staff.get(reverse("admin:orders_order_changelist"))
    assert response.status_code == 503
    check_page(response, seen)  # its <style> has the nonce

    staff.raise_request_exception = False
    with mock.patch.object(Order.objects, "get_queryset", side_effect=RuntimeError("bug")):
        response = staff.get(reverse("admin:orders_order_changelist"))
    assert response.status_code == 500
    check_page(response, seen)


@override_settings(AXES_FAILURE_LIMIT=2)
def test_the_lockout_page_carries_the_policy(db):
    UserFactory(username="clerk")
    client, seen = Client(), {}
    for _ in range(2):
        response = client.post(reverse("admin:login"), {"username": "clerk", "password": "wrong"})
    assert response.status_code == 429
    check_page(response, seen)


@override_settings(DEBUG=True)
def test_the_policy_is_the_same_with_debug_on(demo_admin):
    assert_policy(demo_admin.get("/admin/"))
    assert_policy(demo_admin.get(reverse("admin:catalog_product_changelist")))


def test_the_page_check_finds_each_thing_the_policy_blocks():
    def problems(html, nonce="abc"):
        finder = _InlineFinder(nonce)
        finder.feed(html)
        return finder.problems

    clean = (
        '<script src="/static/admin/js/core.js"></script>'
        '<script type="application/json" id="data">{"a": 1}</script>'
        '<style nonce="abc">p {}</style><link rel="stylesheet" href="/static/x.css"><p class="x">ok</p>'
    )
    assert problems(clean) == []
    for html in (
        "<script>alert(1)</script>",
        '<button onclick="go()">',
        '<a href="javascript:go()">',
        '<p style="color: red">',
        "<style>p {}</style>",
        '<style nonce="other">p {}</style>',
        '<script src="https://cdn.example.com/x.js"></script>',
        '<script src="//cdn.example.com/x.js"></script>',
        '<link rel="stylesheet" href="https://cdn.example.com/x.css">',
    ):
        assert len(problems(html)) == 1, html
