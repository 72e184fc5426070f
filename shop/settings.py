"""Settings for the shop back office.

Everything that differs between machines comes from the environment (see `.env.example`).
"""

import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import csp.constants as csp
import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from environs import Env, EnvError

BASE_DIR = Path(__file__).resolve().parent.parent

# The real environment wins over `.env` (which is optional); a malformed value stops start-up
# naming the variable.
env = Env()
env.read_env(BASE_DIR / ".env", recurse=False, override=False)


def _env(kind: str, name: str, default):
    """The variable read as `kind` (environs: bool, int, list...); unset or empty: the default."""
    if not env.str(name, "").strip():
        return default
    try:
        value = getattr(env, kind)(name)
    except EnvError as error:
        raise ImproperlyConfigured(f"{name} is not valid: {error}") from None
    if kind == "list":
        value = [item.strip() for item in value if item.strip()]
    return value


DEBUG = _env("bool", "DEBUG", False)

SECRET_KEY = _env("str", "SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (or .env), or set DEBUG=1 "
            "for local development."
        )
    SECRET_KEY = "insecure-development-key-only-used-when-DEBUG-is-on"

ALLOWED_HOSTS = _env("list", "ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = _env("list", "CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # First, so that its admin/index.html (the dashboard) wins over django.contrib.admin's.
    "shop.backoffice",
    # django.contrib.admin, with the shop's admin site (dashboard) as the default site.
    "shop.backoffice.apps.ShopAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "shop",
    "shop.core",
    "shop.devtools",
    # The storefront API (django-ninja; its Swagger UI files are served as static files).
    "shop.api",
    "ninja",
    "phonenumber_field",
    "django_countries",
    "axes",
    "csp",
    "import_export",
    "customers",
    "catalog",
    "orders",
    "payments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy header on every response (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A lost database connection: a 503 page saying nothing was changed, not a 500.
    "shop.core.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Refuses logins while a username/address pair is locked out, before checking the password.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]


# Login lockouts (shop/backoffice/login_lockout.py): AXES_FAILURE_LIMIT failed logins for one
# username from one address lock that username out from there; AXES_IP_FAILURE_LIMIT failed logins
# from one address, across usernames, lock the address out (password spraying). Both count the
# last AXES_COOLOFF_MINUTES and lift after it; attempts while locked out are refused, not counted.
def _env_at_least(name: str, default: int, minimum: int) -> int:
    value = _env("int", name, default)
    if value < minimum:
        raise ImproperlyConfigured(f"{name} is not valid: it must be {minimum} or more.")
    return value


AXES_FAILURE_LIMIT = _env_at_least("AXES_FAILURE_LIMIT", 5, 1)
AXES_IP_FAILURE_LIMIT = _env_at_least("AXES_IP_FAILURE_LIMIT", 20, 1)
AXES_COOLOFF_TIME = timedelta(minutes=_env_at_least("AXES_COOLOFF_MINUTES", 15, 1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "shop.backoffice.login_lockout.ShopAxesHandler"
AXES_LOCKOUT_CALLABLE = "shop.backoffice.login_lockout.lockout_response"
AXES_USERNAME_CALLABLE = "shop.backoffice.login_lockout.client_username"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The client address is REMOTE_ADDR, unless AXES_PROXY_COUNT says how many trusted reverse
# proxies in front append to X-Forwarded-For; then it is the entry that many from the right
# (read with django-ipware). Trusting that header without a proxy would let anyone pick an
# address and dodge the lockout.
SHOP_PROXY_COUNT = _env_at_least("AXES_PROXY_COUNT", 0, 0)
AXES_CLIENT_IP_CALLABLE = "shop.backoffice.login_lockout.client_ip_address"

# Content-Security-Policy (django-csp) on every page, error pages included: scripts, styles,
# images and fonts only from this site's own files; no inline script at all (the admin's scripts
# are files, their data is in data attributes and JSON blocks); an inline <style> block only with
# the request's nonce (`<style nonce="{{ request.csp_nonce }}">`); style attributes are refused.
# No plugins, no framing by other sites, forms post only here. tests/test_csp.py walks every admin
# page for what the policy would block, tests/browser/test_csp_browser.py in a real browser.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF],
        "style-src": [csp.SELF, csp.NONCE],
        "img-src": [csp.SELF],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.SELF],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    }
}

ROOT_URLCONF = "shop.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "shop.wsgi.application"
ASGI_APPLICATION = "shop.asgi.application"


def _database_config() -> dict:
    url = _env("str", "DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    config = dj_database_url.parse(url, conn_max_age=_env("int", "CONN_MAX_AGE", 0))
    engine = config["ENGINE"]
    options = config.setdefault("OPTIONS", {})
    if engine == "django.db.backends.sqlite3":
        # Writers take the lock when their transaction starts and wait for each other
        # (busy timeout) instead of failing with "database is locked" halfway through.
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", 30)
        options.setdefault(
            "init_command",
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        )
        # The test database is a file, not shared-cache memory: concurrent test threads then
        # wait on the busy timeout like real writers instead of failing with "table is locked".
        # One file per test process, so two runs side by side never share it.
        config.setdefault("TEST", {}).setdefault(
            "NAME", str(Path(tempfile.gettempdir()) / f"shop-test-{os.getpid()}.sqlite3")
        )
    elif engine == "django.db.backends.mysql":
        options.setdefault("charset", "utf8mb4")
        # READ COMMITTED: a row re-read after SELECT ... FOR UPDATE sees the latest commit.
        options.setdefault("isolation_level", "read committed")
        options.setdefault("init_command", "SET sql_mode='STRICT_TRANS_TABLES'")
        config.setdefault("TEST", {}).update({"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"})
    elif engine == "django.db.backends.postgresql" and _env("bool", "PG_PREPARED_STATEMENTS", True):
        # Parameters bound by the server. The ORM's statements are never prepared (psycopg's
        # prepare_threshold past any count; None would refuse the explicit ones too): each is
        # parsed and planned for its own values, as a generic plan, which PostgreSQL may switch a
        # prepared statement to after five runs, gave an admin list filtered by a rare value
        # (order events of kind "edited") the common values' plan: 4.7 s against 22 ms at a
        # million orders. The hot path's hand-written statements (shop.core.db.hot_cursor: every
        # order placement's nine, by primary keys) are prepared at their second run instead, and
        # planned once: 0.6 ms of database CPU less an order than planning them every time
        # (bench/README.md, placement). Off behind a connection pooler in transaction mode that
        # does not track prepared statements.
        options.setdefault("server_side_binding", True)
        options.setdefault("prepare_threshold", sys.maxsize)
    return config


DATABASES = {"default": _database_config()}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = _env("str", "TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(_env("str", "STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# A file missing from the manifest is served unhashed instead of failing the page.
WHITENOISE_MANIFEST_STRICT = False
if not DEBUG:
    # Serves the collected static files (admin CSS/JS) from the app, compressed and cached;
    # with DEBUG on, runserver serves them from the apps directly.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

FIXTURE_DIRS = [BASE_DIR / "fixtures"]
# dumpdata/loaddata round trips keep microseconds (Django's JSON encoder cuts them).
SERIALIZATION_MODULES = {"json": "shop.core.serializers_json"}

# Numbers like the seed's "555-123-4567" carry no country code; read them as US numbers.
PHONENUMBER_DEFAULT_REGION = _env("str", "PHONENUMBER_DEFAULT_REGION", "US")
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "NATIONAL"

# The store's currency: prices, orders and payments carry it beside every amount.
SHOP_CURRENCY = _env("str", "SHOP_CURRENCY", "USD")
# Who sends the parcels: the head of every packing slip (the address's lines separated by "\n"
# or ";" in the environment).
SHOP_STORE_NAME = _env("str", "SHOP_STORE_NAME", "Shop")
SHOP_STORE_ADDRESS = [
    line.strip()
    for line in _env("str", "SHOP_STORE_ADDRESS", "1 Warehouse Way;Springfield, IL 62701;United States")
    .replace("\\n", ";")
    .replace("\n", ";")
    .split(";")
    if line.strip()
]
# How often a service retries a transaction that lost a deadlock or serialization race.
SHOP_TRANSACTION_RETRIES = _env("int", "SHOP_TRANSACTION_RETRIES", 5)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "shop.core.logging.RedactFilter"}},
    "formatters": {
        "json": {"()": "shop.core.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["redact"],
            # One JSON object per line in production; readable lines while developing.
            "formatter": _env("str", "LOG_FORMAT", "plain" if DEBUG else "json"),
        }
    },
    "root": {"handlers": ["stdout"], "level": _env("str", "LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes.apps": {"level": "WARNING"},
    },
}

# Import and export in the admin (django-import-export; shop/core/admin_import_export.py). Exporting a
# list needs its model's view permission, importing its change permission unless the admin class
# asks for more (products: add and change; stock counts: view stock and adjust stock). An import is
# previewed before it is confirmed, and runs in one transaction that any row's error rolls back.
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "change"
IMPORT_EXPORT_SKIP_ADMIN_CONFIRM = False
IMPORT_EXPORT_USE_TRANSACTIONS = True
# A control character in a name would otherwise make the whole Excel export fail.
IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT = True

# CSV imports (shop/core/resources.py, shop/core/import_uploads.py): a file over the size or row
# limit is refused before it is read. An upload waits for its confirmation in a directory of its
# own (created readable by the server's user only; several servers need a shared one), for at most
# IMPORT_UPLOAD_MAX_AGE seconds; `manage.py import_uploads_clean` deletes what has expired.
IMPORT_MAX_FILE_SIZE = _env("int", "IMPORT_MAX_FILE_SIZE", 10 * 1024 * 1024)
# Each uploaded file is dropped at its first chunk past IMPORT_MAX_FILE_SIZE (shop/core/uploads.py),
# so no more than that is ever written to the temporary folder.
FILE_UPLOAD_HANDLERS = [
    "shop.core.uploads.SizeLimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
IMPORT_MAX_ROWS = _env("int", "IMPORT_MAX_ROWS", 100_000)
IMPORT_UPLOAD_DIR = Path(_env("str", "IMPORT_UPLOAD_DIR", BASE_DIR / "var" / "import_uploads"))
IMPORT_UPLOAD_MAX_AGE = _env("int", "IMPORT_UPLOAD_MAX_AGE", 60 * 60)

# Flat-rate shipping, free from a subtotal (amounts in SHOP_CURRENCY, as strings: never floats).
SHOP_SHIPPING_FLAT_RATE = _env("str", "SHOP_SHIPPING_FLAT_RATE", "7.50")
SHOP_FREE_SHIPPING_OVER = _env("str", "SHOP_FREE_SHIPPING_OVER", "100.00")

# The storefront API (README, "Storefront API"): requests per API key per window (fixed windows
# counted in the cache named here; with several server processes use a shared cache), and the
# payment gateway's webhook secret (empty: every webhook is refused).
API_THROTTLE_RATE = _env("int", "API_THROTTLE_RATE", 300)
API_THROTTLE_WINDOW = _env("int", "API_THROTTLE_WINDOW", 60)
# API_THROTTLE_REDIS_URL (e.g. redis://127.0.0.1:6379/1) counts in Redis, shared by every server
# process, through the cache "api-throttle"; unset, the count is in each process's memory. If the
# cache cannot be reached, requests go through unthrottled with a logged warning.
API_THROTTLE_REDIS_URL = _env("str", "API_THROTTLE_REDIS_URL", "")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if API_THROTTLE_REDIS_URL:
    CACHES["api-throttle"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": API_THROTTLE_REDIS_URL,
        "KEY_PREFIX": "shop",
        # A Redis that does not answer costs a request a fraction of a second, not a worker.
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
API_THROTTLE_CACHE = _env(
    "str", "API_THROTTLE_CACHE", "api-throttle" if API_THROTTLE_REDIS_URL else "default"
)
SHOP_PAYMENT_WEBHOOK_SECRET = _env("str", "SHOP_PAYMENT_WEBHOOK_SECRET", "")

# Production hardening: whenever DEBUG is off (`python manage.py check --deploy` passes).
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _env("bool", "SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = _env("int", "SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env("bool", "SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = _env("bool", "SECURE_HSTS_PRELOAD", True)
    SECURE_REFERRER_POLICY = "same-origin"
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS is empty: set the host names this site serves.")
