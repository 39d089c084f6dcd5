"""Server-rendered pages: the MFA step (``pushmfa:authenticate``), the re-authentication page
(``pushmfa:reauthenticate``) and the account page (``pushmfa:account``)."""
from __future__ import annotations

from .account import AccountView
from .authenticate import AuthenticateView
from .reauth import ReauthenticateView

__all__ = ["AccountView", "AuthenticateView", "ReauthenticateView"]
