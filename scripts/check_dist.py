#!/usr/bin/env python3
"""Check the built sdist and wheel (``python scripts/check_dist.py build/dist``): each carries what a
site needs (templates, static files, migrations, compiled translations, ``py.typed``, the licence) and
nothing else (no tests, no example project, no stray files). Exits non-zero naming every problem."""
from __future__ import annotations

import sys
import tarfile
import zipfile
from pathlib import Path

PACKAGE = "django_pushmfa"
REQUIRED = [
    f"{PACKAGE}/__init__.py",
    f"{PACKAGE}/py.typed",
    f"{PACKAGE}/migrations/0001_initial.py",
    f"{PACKAGE}/templates/pushmfa/authenticate.html",
    f"{PACKAGE}/management/commands/pushmfa_reset.py",
    f"{PACKAGE}/locale/de/LC_MESSAGES/django.mo",
    f"{PACKAGE}/locale/fr/LC_MESSAGES/django.mo",
    f"{PACKAGE}/locale/es/LC_MESSAGES/django.mo",
]
SDIST_TOP_LEVEL = {"PKG-INFO", "README.md", "LICENSE", "CHANGELOG.md", "pyproject.toml", "setup.cfg", "MANIFEST.in"}
FORBIDDEN_SUFFIXES = (".pyc", ".pyo", ".sqlite3", ".orig", ".rej", "~")


def check_names(kind: str, names: list[str]) -> list[str]:
    problems = [f"{kind}: missing {path}" for path in REQUIRED if path not in names]
    problems += [f"{kind}: stray file {name}" for name in names if name.endswith(FORBIDDEN_SUFFIXES)]
    problems += [f"{kind}: stray file {name}" for name in names if "__pycache__" in name.split("/")]
    static = [name for name in names if name.startswith(f"{PACKAGE}/static/")]
    if not static:
        problems.append(f"{kind}: no static files")
    return problems


def check_wheel(path: Path) -> list[str]:
    names = zipfile.ZipFile(path).namelist()
    problems = check_names("wheel", names)
    if not any(name.endswith(".dist-info/licenses/LICENSE") for name in names):
        problems.append("wheel: LICENSE is not in .dist-info/licenses/")
    tops = {name.split("/", 1)[0] for name in names}
    strays = [top for top in tops if top != PACKAGE and not top.endswith(".dist-info")]
    problems += [f"wheel: stray top-level entry {top}" for top in strays]
    return problems


def check_sdist(path: Path) -> list[str]:
    with tarfile.open(path) as archive:
        members = [member.name.split("/", 1)[1] for member in archive.getmembers() if "/" in member.name]
    files = [name for name in members if name]
    problems = check_names("sdist", files)
    for name in files:
        top = name.split("/", 1)[0]
        if top not in SDIST_TOP_LEVEL and top not in (PACKAGE, f"{PACKAGE}.egg-info"):
            problems.append(f"sdist: stray file {name}")
    problems += [f"sdist: missing {name}" for name in ("LICENSE", "README.md", "CHANGELOG.md") if name not in files]
    return problems


def main() -> None:
    dist = Path(sys.argv[1] if len(sys.argv) > 1 else "dist")
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise SystemExit(f"expected one wheel and one sdist in {dist}, found {wheels + sdists}")
    problems = check_wheel(wheels[0]) + check_sdist(sdists[0])
    if problems:
        raise SystemExit("\n".join(problems))
    print(f"   {wheels[0].name}, {sdists[0].name}: contents OK")


if __name__ == "__main__":
    main()
