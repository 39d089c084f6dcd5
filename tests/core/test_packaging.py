"""Keep the packaging honest: one version, absolute README links (they are shown on the package index),
the licence notice, floors on every direct dependency and the lowest-versions constraints in step."""
import re
import subprocess
import sys
import tomllib

import django_pushmfa
from tests.paths import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def test_the_version_has_one_source():
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert "version" not in PYPROJECT["project"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "django_pushmfa.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?", django_pushmfa.__version__)


def test_readme_links_are_absolute():
    readme = (REPO / "README.md").read_text()
    relative = [link for link in re.findall(r"\]\(([^)]+)\)", readme) if not link.startswith(("https://", "#"))]
    assert not relative, f"relative links in README.md (broken on the package index): {relative}"


def test_the_licence_travels_with_the_package():
    licence = (REPO / "LICENSE").read_text()
    assert "Copyright (c) 2026, the django-pushmfa authors" in licence
    assert "Redistribution and use in source and binary forms" in licence
    assert PYPROJECT["project"]["license"] == "BSD-3-Clause"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]


def test_test_and_bench_are_dependency_groups_not_extras():
    # User-facing extras only: providers, PostgreSQL, the schema, the Tasks API backport (push delivery),
    # simplejwt (the app clients' token exchange, contrib.simplejwt).
    assert set(PYPROJECT["project"]["optional-dependencies"]) == {
        "fcm", "apns", "postgres", "openapi", "tasks", "simplejwt",
    }
    assert {"test", "bench", "lint"} <= set(PYPROJECT["dependency-groups"])


def test_lowest_constraints_are_the_pyproject_floors():
    """.ci/lowest-constraints.txt (the "lowest" run's pins) is generated: regenerate it after changing a floor
    with ``python scripts/lowest_constraints.py > .ci/lowest-constraints.txt``."""
    generated = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "lowest_constraints.py"), str(REPO / "pyproject.toml")],
        capture_output=True, text=True, check=True,
    ).stdout
    assert (REPO / ".ci" / "lowest-constraints.txt").read_text() == generated
    assert "pyfcm==2.0.9" in generated and "webauthn==2.6" in generated and "qrcode==7.4.2" in generated
