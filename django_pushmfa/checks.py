"""System checks (ids ``pushmfa.E0xx`` errors, ``pushmfa.W0xx`` warnings), under the security tag."""
from __future__ import annotations



