"""Which copy of django_pushmfa the suite runs against. ./runtests runs the suite against the built wheel
installed in a fresh environment (PUSHMFA_TEST_INSTALLED=1, from .ci/installed/): a file missing from
the wheel must fail there, so the checkout's package must not be importable in that run."""
import os
from pathlib import Path

from django.template.loader import get_template

import django_pushmfa
import django_pushmfa.migrations
from tests.paths import IMPORT_ROOT, REPO

CHECKOUT_PACKAGE = REPO / "django_pushmfa"


def _package_dirs() -> list[Path]:
    template = Path(get_template("pushmfa/authenticate.html").origin.name).resolve()
    return [
        Path(django_pushmfa.__file__).resolve().parent,
        Path(django_pushmfa.migrations.__file__).resolve().parent.parent,
        template.parents[2],  # <package>/templates/pushmfa/authenticate.html
    ]


def test_the_suite_runs_against_the_copy_its_mode_names():
    dirs = _package_dirs()
    if os.environ.get("PUSHMFA_TEST_INSTALLED") == "1":
        for directory in dirs:
            assert "site-packages" in directory.parts, directory
            assert directory != CHECKOUT_PACKAGE, directory
        assert not (IMPORT_ROOT / "django_pushmfa").exists(), "the installed-package run can import the checkout"
    else:
        assert dirs == [CHECKOUT_PACKAGE] * 3
