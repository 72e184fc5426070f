"""gunicorn as `make serve` runs it, for the scenarios that measure over HTTP (api_orders,
served_export): its flags read from the Makefile's serve target, a free port, a clean stop."""

import re
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def serve_flags() -> list[str]:
    """The gunicorn options of the Makefile's serve target (after the application), with the
    Makefile's defaults (`WORKERS ?= 3`...) filled in, without `--bind`."""
    text = (ROOT / "Makefile").read_text()
    recipe = text[text.index("\nserve:") :]
    line = recipe[recipe.index("gunicorn shop.wsgi:application") :]
    command = line[: line.index("\n\n")] if "\n\n" in line else line
    command = command.replace("\\\n", " ").split("\n")[0]
    flags = command.split("shop.wsgi:application", 1)[1]
    flags = re.sub(r"--bind \S+", "", flags)
    for name, value in re.findall(r"^(\w+) \?= (\S+)$", text, re.M):
        flags = flags.replace(f"$({name})", value)
    flags = flags.replace("'*'", "*")
    return flags.split()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process) -> None:
    """Stop a server started for a scenario: asked first, killed after 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
