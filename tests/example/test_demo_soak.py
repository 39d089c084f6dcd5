"""Issue 19: concurrent push logins on the demo's own configuration (SQLite + local-memory cache under
``runserver``) never end "approved on the phone, not signed in". ``bench/demo_soak.py`` drives real
HTTP logins — the password step, the push, the browser's long poll while the phone approves through
the simulator — and counts the outcomes; ``python -m bench --only demo_soak`` runs it larger."""
from __future__ import annotations

import pytest

from bench import demo_soak

pytestmark = pytest.mark.slow


def test_no_approval_is_lost_under_concurrent_logins():
    result = demo_soak.run(workers=6, logins_per_worker=3)
    assert result["logins"] == 18, result
    assert result["approved_not_signed_in"] == 0, result
    assert result["phone_approved"] == result["signed_in"] == 18, result
    assert result["server_5xx_in_log"] == 0, result
