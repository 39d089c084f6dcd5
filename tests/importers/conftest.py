"""Fixtures shared with the fallback tests (the password step, the JSON client). This directory runs with
tests/importers/settings.py only; tests/conftest.py keeps it out of the main runs."""
from tests.fallbacks.conftest import client, password_step  # noqa: F401
