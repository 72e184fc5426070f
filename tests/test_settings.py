"""Settings from the environment (environs): `.env` fills in, the environment wins, bad values
stop start-up."""

import json
import logging
import sys

import pytest

from tests.test_deploy import manage, production_env


def _setting(env, name):
    code = f"from django.conf import settings; print(repr(settings.{name}))"
    return manage(env, "shell", "--no-imports", "-c", code)


def test_a_malformed_value_stops_start_up_naming_the_variable(tmp_path):
    for name, value in [("DEBUG", "maybe"), ("SHOP_TRANSACTION_RETRIES", "abc"), ("CONN_MAX_AGE", "1.5")]:
        result = manage(production_env(tmp_path, **{name: value}), "check")
        assert result.returncode != 0, name
        assert f"{name} is not valid" in result.stderr, result.stderr


def test_values_are_parsed_and_empty_means_the_default(tmp_path):
    env = production_env(tmp_path, ALLOWED_HOSTS=" a.example , b.example ,", SHOP_TRANSACTION_RETRIES="")
    assert _setting(env, "ALLOWED_HOSTS").stdout.strip() == "['a.example', 'b.example']"
    assert _setting(env, "SHOP_TRANSACTION_RETRIES").stdout.strip() == "5"
    assert (
        _setting(production_env(tmp_path, AXES_FAILURE_LIMIT="9"), "AXES_FAILURE_LIMIT").stdout.strip() == "9"
    )


def test_dotenv_fills_in_and_the_environment_wins(tmp_path):
    from django.conf import settings

    dotenv = settings.BASE_DIR / ".env"
    if not dotenv.exists() or "DEBUG=1" not in dotenv.read_text().splitlines():
        pytest.skip(".env does not set DEBUG=1 (make and CI copy it from .env.example, which does)")
    env = production_env(tmp_path)
    assert _setting(env, "DEBUG").stdout.strip() == "False"  # the environment's DEBUG=0 wins
    del env["DEBUG"]
    assert _setting(env, "DEBUG").stdout.strip() == "True"  # .env fills in what it does not set


def test_json_log_lines_carry_time_level_logger_message_extras_and_exception_masked():
    from shop.core.logging import JsonFormatter

    try:
        raise ValueError("card 4111 1111 1111 1111")
    except ValueError:
        record = logging.LogRecord(
            "shop.orders", logging.ERROR, __file__, 1, "for %s", ("a@b.example",), sys.exc_info()
        )
    record.order = "SO-000001 jane@example.com"
    record.count = 3
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "ERROR" and entry["logger"] == "shop.orders"
    assert entry["message"] == "for [email]"
    assert entry["order"] == "SO-000001 [email]" and entry["count"] == 3
    assert "T" in entry["time"] and entry["time"].endswith("+00:00")
    assert "ValueError" in entry["exception"] and "4111" not in entry["exception"]


def test_login_lockout_settings_come_from_the_environment(tmp_path):
    env = production_env(
        tmp_path, AXES_IP_FAILURE_LIMIT="30", AXES_PROXY_COUNT="1", AXES_COOLOFF_MINUTES="45"
    )
    code = (
        "from django.conf import settings as s; "
        "print(s.AXES_FAILURE_LIMIT, s.AXES_IP_FAILURE_LIMIT, s.SHOP_PROXY_COUNT, s.AXES_COOLOFF_TIME)"
    )
    assert manage(env, "shell", "--no-imports", "-c", code).stdout.split() == ["5", "30", "1", "0:45:00"]
    defaults = manage(production_env(tmp_path), "shell", "--no-imports", "-c", code).stdout.split()
    assert defaults == ["5", "20", "0", "0:15:00"]


def test_a_lockout_setting_out_of_range_stops_start_up_naming_it(tmp_path):
    for name, value in [
        ("AXES_FAILURE_LIMIT", "0"),
        ("AXES_IP_FAILURE_LIMIT", "abc"),
        ("AXES_COOLOFF_MINUTES", "0"),
        ("AXES_PROXY_COUNT", "-1"),
    ]:
        result = manage(production_env(tmp_path, **{name: value}), "check")
        assert result.returncode != 0, name
        assert f"{name} is not valid" in result.stderr, result.stderr


def test_production_pages_carry_the_content_security_policy(tmp_path):
    code = (
        "from django.test import Client; c = Client(HTTP_HOST='shop.example.com'); "
        "[print(r.status_code, r['Content-Security-Policy']) "
        "for r in (c.get('/admin/login/', secure=True), c.get('/nowhere/', secure=True))]"
    )
    env = production_env(tmp_path)
    assert manage(env, "collectstatic", "--noinput", "-v0").returncode == 0  # the login page's CSS
    result = manage(env, "shell", "--no-imports", "-c", code)
    lines = [line for line in result.stdout.splitlines() if line[:3].isdigit()]  # not the log lines
    assert [line.split()[0] for line in lines] == ["200", "404"], result.stdout + result.stderr
    for line in lines:
        policy = line.split(" ", 1)[1]
        for directive in (
            "default-src 'self'",
            "script-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ):
            assert directive in policy, (directive, policy)
        assert "unsafe-inline" not in policy


def test_postgresql_binds_on_the_server_and_prepares_no_orm_statement_unless_turned_off(tmp_path):
    """PostgreSQL binds parameters on the server; psycopg prepares no statement by count (the
    hot path prepares its own: tests/test_hand_written_sql.py), and the URL's own startup
    options are kept as given. The switch turns both off (a pooler in transaction mode), and no
    other database gets them (SQLite here; MariaDB's driver is only installed where it is used)."""
    code = (
        "from django.conf import settings as s; o = s.DATABASES['default']['OPTIONS']; "
        "print(o.get('server_side_binding'), o.get('prepare_threshold'), repr(o.get('options')))"
    )
    url = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/shop"}
    never = str(sys.maxsize)
    cases = [
        (url, ["True", never, "None"]),
        (
            {"DATABASE_URL": f"{url['DATABASE_URL']}?options=-c%20search_path%3Dpublic"},
            ["True", never, "'-c", "search_path=public'"],
        ),
        ({**url, "PG_PREPARED_STATEMENTS": "0"}, ["None", "None", "None"]),
        ({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}, ["None", "None", "None"]),
    ]
    for extra, expected in cases:
        result = manage(production_env(tmp_path, **extra), "shell", "--no-imports", "-c", code)
        assert result.stdout.split() == expected, (extra, result.stderr)
