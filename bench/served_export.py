"""The orders CSV export through gunicorn started as `make serve` starts it: does it complete?

`make serve` runs gunicorn with its defaults but the worker count; a sync worker that is busy
for longer than gunicorn's timeout (30 s) is killed by the arbiter, whatever it is doing. This
starts gunicorn with `make serve`'s flags (`SERVE_FLAGS`, read from the Makefile's serve target)
on a free port against DATABASE_URL, logs in over HTTP as a staff user with a password, posts
the export form for every order (CSV, every column), reads the download as a browser does, and
samples the resident memory of the worker serving it every 0.1 s.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shopscale python -m bench.served_export

Inside `make bench` the exports scenario runs it on the largest BENCH_SCALE size.
"""

import os
import re
import secrets
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from bench.serving import free_port, serve_flags, stop

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "served-export-" + secrets.token_hex(8)


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(p) for p in task.read_text().split()]
    return found


@contextmanager
def served(url: str, port: int, log_path: Path):
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_hex(32),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": url,
    }
    # As `make serve`: the static files collected first (the admin's pages name them).
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "shop.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command + serve_flags(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        stop(process)


def _unsecure(session) -> None:
    """The cookies are Secure (HTTPS only) with DEBUG off; this client speaks plain HTTP to a
    server that trusts the proxy header, as the TLS proxy in front of it would."""
    for cookie in session.cookies:
        cookie.secure = False


def staff_user():
    from django.contrib.auth import get_user_model

    User = get_user_model()
    user, _ = User.objects.get_or_create(
        username="served-export", defaults={"is_staff": True, "is_superuser": True}
    )
    user.is_staff = user.is_superuser = True
    user.set_password(PASSWORD)
    user.save()
    return user


def measure(url: str) -> dict:
    import requests

    from orders.models import Order
    from orders.resources import OrderResource

    user = staff_user()
    orders = Order.objects.count()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    headers = {"X-Forwarded-Proto": "https"}  # as behind the deployment's TLS proxy
    log_path = Path("/tmp") / f"bench-served-export-{port}.log"
    with served(url, port, log_path) as process:
        session = requests.Session()
        session.headers.update(headers)
        for _ in range(200):
            try:
                # The socket accepts before a worker has imported Django: the first answer can
                # take longer than a page on a busy machine.
                page = session.get(f"{base}/admin/login/", timeout=60)
                break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        _unsecure(session)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        session.headers["Referer"] = f"https://127.0.0.1:{port}/admin/login/"
        answer = session.post(
            f"{base}/admin/login/",
            {
                "username": user.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token,
                "next": "/admin/",
            },
            allow_redirects=False,
        )
        if answer.status_code != 302:
            raise RuntimeError(f"login answered {answer.status_code}")
        _unsecure(session)
        form = session.get(f"{base}/admin/orders/order/export/")
        _unsecure(session)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        session.headers["Referer"] = f"https://127.0.0.1:{port}/admin/orders/order/export/"
        data = {"format": "0", "resource": "0", "csrfmiddlewaretoken": token}
        data.update({f"orderresource_{name}": "on" for name in OrderResource.fields})
        workers = _children(process.pid)
        before = {pid: _rss_mb(pid) for pid in workers}
        peak = dict(before)
        done = threading.Event()

        def sample():
            while not done.is_set():
                for pid in workers:
                    peak[pid] = max(peak.get(pid, 0.0), _rss_mb(pid))
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        size = lines = 0
        error = ""
        try:
            with session.post(
                f"{base}/admin/orders/order/export/", data, stream=True, timeout=600
            ) as response:
                status = response.status_code
                for chunk in response.iter_content(64 * 1024):
                    size += len(chunk)
                    lines += chunk.count(b"\n")
        except requests.RequestException as failure:
            status, error = 0, f"{type(failure).__name__}: {failure}"
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    grown = max((peak[pid] - before.get(pid, 0.0) for pid in peak), default=0.0)
    killed = "WORKER TIMEOUT" in log_path.read_text(errors="replace")
    return {
        "orders": orders,
        "status": status,
        "complete": status == 200 and lines == orders + 1 and not killed,
        "seconds": seconds,
        "rows_per_second": orders / seconds if seconds else 0.0,
        "megabytes": size / 1e6,
        "lines": lines,
        "worker_peak_rss_mb": max(peak.values(), default=0.0),
        "worker_rss_growth_mb": grown,
        "worker_killed": killed,
        "error": error,
        "flags": " ".join(serve_flags()),
        "log": str(log_path),
    }


def main() -> int:
    from bench.run import setup_django

    setup_django()
    result = measure(os.environ["DATABASE_URL"])
    for key, value in result.items():
        print(f"{key}: {value:,.1f}" if isinstance(value, float) else f"{key}: {value}")
    return 0 if result["complete"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
