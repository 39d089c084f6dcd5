"""Server-rendered pages: the MFA step (``pushmfa:authenticate``) and the account page (``pushmfa:account``)."""
from __future__ import annotations

from .account import AccountView
from .authenticate import AuthenticateView

__all__ = ["AccountView", "AuthenticateView"]
