"""Summarise pytest JUnit XML reports, one per backend: python3 .ci/junit_summary.py junit-*.xml

Prints one table (tests/passed/failed/errors/skipped/time per backend, named after the file:
junit-<backend>.xml), the failed test ids, the skipped ones grouped by reason and, with
--screenshots DIR, the screenshots found there. Exits 1 if a report is missing or unreadable,
has failures or errors, or has no passed test (a backend that was not really tested).
"""

import argparse
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

COUNTS = ("tests", "failures", "errors", "skipped")


def node_id(case: ET.Element) -> str:
    """tests.pkg.test_mod.TestClass + test_x -> tests/pkg/test_mod.py::TestClass::test_x"""
    parts = case.get("classname", "").split(".")
    for i in range(len(parts), 0, -1):
        module = Path(*parts[:i]).with_suffix(".py")
        if module.is_file():
            return "::".join([str(module), *parts[i:], case.get("name", "?")])
    return "::".join(filter(None, [case.get("classname"), case.get("name", "?")]))


def first_line(text: str | None, width: int = 100) -> str:
    lines = (text or "").strip().splitlines()
    line = lines[0] if lines else ""
    return line if len(line) <= width else line[: width - 3] + "..."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path, help="junit-<backend>.xml files")
    parser.add_argument("--screenshots", type=Path, help="folder of screenshots to list")
    args = parser.parse_args()

    rows, failed, skipped = [], [], defaultdict(list)
    total = dict.fromkeys((*COUNTS, "passed", "time"), 0)
    ok = True
    for path in args.reports:
        backend = path.stem.removeprefix("junit-")
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as exc:
            problem = "no report" if isinstance(exc, FileNotFoundError) else "unreadable report"
            rows.append((backend, f"FAIL: {problem}", None))
            ok = False
            continue
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        n = {k: sum(int(s.get(k, 0)) for s in suites) for k in COUNTS}
        n["passed"] = n["tests"] - n["failures"] - n["errors"] - n["skipped"]
        n["time"] = sum(float(s.get("time", 0)) for s in suites)
        for key in total:
            total[key] += n[key]
        problems = [
            f"{n[k]} {label}" for k, label in (("failures", "failed"), ("errors", "error(s)")) if n[k]
        ]
        if not n["passed"]:
            problems.append("no test passed")
        ok = ok and not problems
        rows.append((backend, "FAIL: " + ", ".join(problems) if problems else "ok", n))
        for case in root.iter("testcase"):
            for kind in ("failure", "error"):
                for el in case.findall(kind):
                    failed.append((backend, kind, node_id(case), first_line(el.get("message") or el.text)))
            for el in case.findall("skipped"):
                reason = el.get("message") or first_line(el.text) or "(no reason)"
                if el.get("type") == "pytest.xfail":
                    reason = f"xfail: {reason}"
                skipped[reason].append((backend, node_id(case)))

    header = ("backend", "result", "tests", "passed", "failed", "errors", "skipped", "time")
    fmt = "{:<10} {:<28} {:>6} {:>6} {:>6} {:>6} {:>7} {:>8}"
    print(fmt.format(*header))
    for backend, result, n in [*rows, ("total", "ok" if ok else "FAIL", total)]:
        if n is None:
            print(fmt.format(backend, result, *["-"] * 6))
            continue
        counts = (n["tests"], n["passed"], n["failures"], n["errors"], n["skipped"])
        print(fmt.format(backend, result, *counts, f"{n['time']:.1f}s"))

    if failed:
        print(f"\nFailed ({len(failed)}):")
        for backend, kind, test, message in failed:
            print(f"  {backend:<10} {test}{' [error]' if kind == 'error' else ''}\n  {'':<10}   {message}")
    if skipped:
        print(f"\nSkipped ({sum(map(len, skipped.values()))}), by reason:")
        for reason, cases in sorted(skipped.items(), key=lambda item: -len(item[1])):
            print(f"  {reason} ({len(cases)})")
            for backend, test in cases:
                print(f"    {backend:<10} {test}")

    shots = sorted(p for p in args.screenshots.rglob("*") if p.is_file()) if args.screenshots else []
    if shots:
        print(f"\nScreenshots ({len(shots)}) in {args.screenshots}:")
        for shot in shots:
            print(f"  {shot.relative_to(args.screenshots)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
