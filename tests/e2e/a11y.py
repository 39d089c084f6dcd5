"""Accessibility checks in the browser tests: axe-core, injected into the page under test.

axe-core comes from npm, pinned by ``tests/e2e/package-lock.json`` (``npm ci --prefix tests/e2e``;
``./runtests`` runs it when missing). A missing axe-core fails the test: it is never skipped.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page: Any, *, within: str | None = None) -> list[str]:
    """axe-core's violations on ``page`` (or inside the ``within`` selector), one line each."""
    assert AXE.exists(), f"axe-core is missing at {AXE}: run `npm ci --prefix tests/e2e`"
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (within) => await axe.run(within ? document.querySelector(within) : document,"
        " {resultTypes: ['violations']})",
        within,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


def assert_accessible(page: Any, *, within: str | None = None) -> None:
    violations = axe_violations(page, within=within)
    assert not violations, "axe-core found:\n" + "\n".join(violations)
