"""Keep the README true: every setting is documented, and the two commands it names exist."""
from pathlib import Path

from django_pushmfa.app_settings import DEFAULTS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_every_setting_is_in_the_readme_table():
    missing = [name for name in DEFAULTS if f"`PUSHMFA_{name}`" not in README]
    assert not missing, f"settings missing from README.md: {missing}"


def test_readme_commands_exist_and_ci_runs_the_test_command():
    assert "./demo" in README and "./runtests" in README
    assert (ROOT / "demo").stat().st_mode & 0o111
    assert (ROOT / "runtests").stat().st_mode & 0o111
    assert "./runtests" in (ROOT / ".ci" / "run").read_text()
