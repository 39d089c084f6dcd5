#!/usr/bin/env python3
"""Print a pip/uv constraints file that pins every direct dependency of django-pushmfa (the
``dependencies`` and every extra in ``pyproject.toml``) to its floor: ``name>=X`` becomes ``name==X``.

The "lowest" CI run installs the wheel under these constraints, so a floor that no longer works fails
CI instead of a user's site. A requirement without a floor is an error: every direct dependency needs one.
"""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

REQUIREMENT = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?P<spec>[^;]*)")


def floors(pyproject: Path) -> dict[str, str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    pins: dict[str, str] = {}
    for requirement in requirements:
        match = REQUIREMENT.match(requirement)
        if match is None:
            raise SystemExit(f"cannot parse requirement {requirement!r}")
        floor = next(
            (part.strip()[2:].strip() for part in match["spec"].split(",") if part.strip().startswith(">=")), None
        )
        if floor is None:
            raise SystemExit(f"{requirement!r} has no floor (>=): every direct dependency needs one")
        name = match["name"].lower().replace("_", "-")
        if pins.get(name, floor) != floor:
            raise SystemExit(f"{name} has two floors: {pins[name]} and {floor}")
        pins[name] = floor
    return pins


def main() -> None:
    pyproject = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "pyproject.toml"
    for name, floor in sorted(floors(pyproject).items()):
        print(f"{name}=={floor}")


if __name__ == "__main__":
    main()
