"""Production settings: `check --deploy` is clean, a missing secret stops start-up, and the app
serves its admin (with static files) from gunicorn."""

import logging
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from shop.core.logging import JsonFormatter, RedactFilter

ROOT = Path(__file__).resolve().parent.parent


def production_env(tmp_path, **extra):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="shop.example.com,127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
        DJANGO_SETTINGS_MODULE="shop.settings",
    )
    env.update(extra)
    return env


def manage(env, *args, timeout=120):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_stops_start_up_with_a_clear_message(tmp_path):
    result = manage(production_env(tmp_path, SECRET_KEY=""), "check")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_missing_allowed_hosts_stops_start_up(tmp_path):
    result = manage(production_env(tmp_path, ALLOWED_HOSTS=""), "check")
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is empty" in result.stderr


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_serves_the_admin_login_and_its_static_files(tmp_path):
    env = production_env(tmp_path)
    for args in (("migrate", "--noinput", "-v0"), ("collectstatic", "--noinput", "-v0")):
        result = manage(env, *args)
        assert result.returncode == 0, result.stderr
    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "shop.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # Behind the TLS proxy: the proxy says the request came over https.
        headers = {"X-Forwarded-Proto": "https", "Host": "shop.example.com"}
        deadline = time.monotonic() + 30
        while True:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/admin/login/", headers=headers)
                with urllib.request.urlopen(request, timeout=5) as response:
                    page = response.read().decode()
                    assert response.status == 200
                    assert "Strict-Transport-Security" in response.headers
                break
            except (ConnectionError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        css = page.split('href="/static/admin/css/base')[1].split('"')[0]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/static/admin/css/base{css}", headers=headers
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
            assert "max-age" in response.headers.get("Cache-Control", "")
        # Plain http is redirected to https.
        plain = urllib.request.Request(
            f"http://127.0.0.1:{port}/admin/login/", headers={"Host": "shop.example.com"}
        )
        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as excinfo:
            opener.open(plain, timeout=5)
        assert excinfo.value.code == 301
        assert excinfo.value.headers["Location"].startswith("https://")
    finally:
        server.terminate()
        server.wait(timeout=10)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_logs_never_carry_card_numbers_or_emails():
    record = logging.makeLogRecord(
        {"msg": "charge for %s with %s", "args": ("jane@example.com", "4111 1111 1111 1111")}
    )
    RedactFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "4111" not in line and "jane@example.com" not in line
    assert "[email]" in line and "[card number]" in line
