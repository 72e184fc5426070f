"""The packages import in one direction (README, "Layout"); this walks every import to keep it so.

Every module of the project is parsed (imports inside functions included) and each import of
another project package is checked against ALLOWED; the graph of packages must have no cycle.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Who may import whom. Low-level helpers import no app; customers and catalog know nothing of
# orders or payments; payments knows customers; orders knows catalog, customers and payments;
# the back-office site and the developer tools may import every app.
ALLOWED: dict[str, set[str]] = {
    "shop.core": set(),
    "customers": {"shop.core"},
    "catalog": {"shop.core"},
    "payments": {"shop.core", "customers"},
    "orders": {"shop.core", "customers", "catalog", "payments"},
    "shop.backoffice": {"shop.core", "customers", "catalog", "payments", "orders"},
    "shop.devtools": {"shop.core", "shop.backoffice", "customers", "catalog", "payments", "orders"},
    # The storefront API: over every app, and nothing but the URLs imports it.
    "shop.api": {"shop.core", "customers", "catalog", "payments", "orders"},
    # Settings, URLs, WSGI/ASGI and the roles migrations.
    "shop": {"shop.core", "shop.backoffice", "shop.api"},
}
# Outside the application: they may use anything, and nothing may use them.
UNCHECKED = {"tests", "bench"}


def package_of(module: str) -> str | None:
    """The package of ALLOWED (or UNCHECKED) a dotted module name belongs to; None if not ours."""
    for package in sorted([*ALLOWED, *UNCHECKED], key=len, reverse=True):
        if module == package or module.startswith(package + "."):
            return package
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, module) of every import in the source, at any depth, relative ones resolved."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module
            # `from shop import core` imports the package shop.core, not shop's own modules.
            inner = {f"{target}.{alias.name}" for alias in node.names}
            inner = {name for name in inner if package_of(name) != package_of(target)}
            found.extend((node.lineno, name) for name in sorted(inner) or [target])
    return found


def project_files():
    for package in {p.split(".")[0] for p in ALLOWED}:
        yield from sorted((ROOT / package).rglob("*.py"))


def violations(files=None) -> list[str]:
    """Every import against ALLOWED, as "path:line: a imports b"."""
    problems = []
    for path in files or project_files():
        module = module_name(path)
        source_package = package_of(module)
        for line, target in imported_modules(path.read_text(), module, path.name == "__init__.py"):
            target_package = package_of(target)
            if target_package in (None, source_package):
                continue
            if target_package in UNCHECKED or target_package not in ALLOWED[source_package]:
                problems.append(f"{path.relative_to(ROOT)}:{line}: {source_package} imports {target}")
    return sorted(set(problems))


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {package: set() for package in ALLOWED}
    for path in project_files():
        module = module_name(path)
        source = package_of(module)
        for _, target in imported_modules(path.read_text(), module, path.name == "__init__.py"):
            target_package = package_of(target)
            if target_package in ALLOWED and target_package != source:
                graph[source].add(target_package)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """A cycle of the graph as a path that ends where it started ([] when there is none)."""
    done: set[str] = set()

    def visit(node, path):
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return []
        for target in sorted(graph[node]):
            cycle = visit(target, [*path, node])
            if cycle:
                return cycle
        done.add(node)
        return []

    for node in sorted(graph):
        cycle = visit(node, [])
        if cycle:
            return cycle
    return []


def test_every_import_follows_the_stated_direction():
    assert violations() == []


def test_the_packages_import_each_other_without_a_cycle():
    assert find_cycle(package_graph()) == []


def test_the_allowed_directions_themselves_have_no_cycle():
    assert find_cycle(ALLOWED) == []


def test_every_module_of_the_project_is_walked():
    walked = {module_name(path) for path in project_files()}
    assert {"orders.services", "payments.services", "customers.admin", "shop.core.db"} <= walked
    assert all(package_of(module) in ALLOWED for module in walked)


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        # Up the direction, at module level and inside a function.
        (
            "payments/services.py",
            "from orders.services import lock_order\n",
            "payments imports orders.services",
        ),
        ("customers/x.py", "def f():\n    import orders.models\n", "customers imports orders.models"),
        ("catalog/x.py", "from payments import services\n", "catalog imports payments"),
        # The helpers import no app; relative imports are resolved.
        ("shop/core/x.py", "from ...catalog import models\n", "shop.core imports catalog"),
        ("shop/core/x.py", "from shop.backoffice import integrity\n", "shop.core imports shop.backoffice"),
        ("shop/core/x.py", "from shop import backoffice\n", "shop.core imports shop.backoffice"),
        ("orders/x.py", "from shop.devtools import scale\n", "orders imports shop.devtools"),
        ("orders/x.py", "import tests.factories\n", "orders imports tests.factories"),
        # Nothing but the URLs imports the API; the API does not import the back office.
        ("orders/x.py", "from shop.api import api\n", "orders imports shop.api"),
        ("shop/backoffice/x.py", "import shop.api.models\n", "shop.backoffice imports shop.api.models"),
        ("shop/api/x.py", "from shop.backoffice import admin\n", "shop.api imports shop.backoffice"),
    ],
)
def test_an_import_against_the_direction_is_reported(tmp_path, monkeypatch, path, source, expected):
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    file = tmp_path / path
    file.parent.mkdir(parents=True)
    file.write_text(source)
    assert [problem.split(": ", 1)[1] for problem in violations([file])] == [expected]


def test_an_allowed_import_is_not_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    file = tmp_path / "orders" / "x.py"
    file.parent.mkdir(parents=True)
    file.write_text("from payments.services import payment_refund\nfrom . import models\nimport django\n")
    assert violations([file]) == []


def test_only_the_urls_import_the_api():
    importers = set()
    for path in project_files():
        module = module_name(path)
        if package_of(module) == "shop.api":
            continue
        for _, target in imported_modules(path.read_text(), module, path.name == "__init__.py"):
            if package_of(target) == "shop.api":
                importers.add(module)
    assert importers == {"shop.urls"}


def test_a_cycle_is_found():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []
