"""The example site's own settings, for the browser tests, with one change: a fast password hasher.

Every flow logs in with a password, and the seeding command sets fifteen; with the production
PBKDF2 cost that alone would take many seconds of the run on a loaded CI machine.
"""
from example_project.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Every browser test signs in from 127.0.0.1: the per-IP push limit (20 per 15 minutes) would refuse
# the suite's later pushes. The per-user limit stays as shipped (a test checks the page's answer to it).
PUSHMFA_PUSH_RATE_LIMIT_IP = (1000, 900)
