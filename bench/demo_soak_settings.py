"""The example site's own settings (the demo: SQLite + local-memory cache unless the environment
says otherwise) with only what ``bench/demo_soak.py`` needs on top: every login of the soak comes
from 127.0.0.1, so the push rate limits are lifted (the suite tests them)."""
from example_project.settings import *  # noqa: F403

PUSHMFA_PUSH_RATE_LIMIT_USER = (100_000, 60)
PUSHMFA_PUSH_RATE_LIMIT_IP = (100_000, 60)
