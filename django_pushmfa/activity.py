"""A user's security events in plain words, for a site's "recent activity" list.

``describe(event)`` → :class:`Activity` ("Signed in with your phone", "Added an authenticator app
“Work phone”", "A wrong number was picked on Pixel 8"), with the details a user recognises: which
method, which device, from which address, and whether staff did it. Select the events with
``select_related("credential__push_device", "actor")`` to describe a list without a query per row.
Only what the owner may see: never a secret, a number or a token.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from .internal.methods import name_of
from .models import MFACredential, SecurityEvent

Kind = SecurityEvent.Kind

# "… with <method>": how a sentence names each method (API or model name).
METHOD_PHRASES = {
    "push": lambda: _("your phone"),
    "totp": lambda: _("an authenticator app"),
    "webauthn": lambda: _("a security key or passkey"),
    "backup_code": lambda: _("a backup code"),
    "backup_codes": lambda: _("backup codes"),
}


@dataclass(frozen=True)
class Activity:
    title: str
    details: list[str] = field(default_factory=list)
    warning: bool = False  # something the user should look at (a denial, a wrong number, a report)


def _method(event: SecurityEvent) -> str:
    method = (event.detail or {}).get("method") or (
        event.credential.method if event.credential_id and event.credential is not None else ""
    )
    return name_of(method)


def _method_phrase(event: SecurityEvent) -> str:
    method = _method(event)
    if method == "backup_code" and event.kind not in (Kind.MFA_COMPLETED, Kind.MFA_FAILED):
        method = "backup_codes"  # the set is added or removed; one code signs in
    phrase = METHOD_PHRASES.get(method)
    return phrase() if phrase else _("a method")


def _name(event: SecurityEvent) -> str:
    """The credential's own name: its label, or the paired phone's name."""
    credential: MFACredential | None = event.credential if event.credential_id else None
    if credential is None:
        return ""
    if credential.label:
        return credential.label
    device = getattr(credential, "push_device", None) if credential.method == MFACredential.Method.PUSH else None
    return getattr(device, "name", "") or ""


def _device(event: SecurityEvent) -> str:
    return _name(event) or _("your phone")


def _titles() -> dict[str, Any]:
    return {
        Kind.MFA_COMPLETED: lambda e: _("Signed in with %(method)s") % {"method": _method_phrase(e)},
        Kind.MFA_FAILED: lambda e: _("A sign-in with %(method)s failed") % {"method": _method_phrase(e)},
        Kind.PUSH_APPROVED: lambda e: _("Sign-in approved on %(device)s") % {"device": _device(e)},
        Kind.PUSH_DENIED: lambda e: _("Sign-in denied on %(device)s") % {"device": _device(e)},
        Kind.WRONG_NUMBER: lambda e: _("A wrong number was picked on %(device)s") % {"device": _device(e)},
        Kind.PUSH_REPORTED: lambda e: _("A sign-in was reported as not yours on %(device)s") % {"device": _device(e)},
        Kind.PUSH_SUSPENDED: lambda e: _("Push sign-in paused after requests you did not approve"),
        Kind.RATE_LIMITED: lambda e: _("Too many sign-in requests: new ones were refused for a while"),
        Kind.DEVICE_REGISTERED: lambda e: _("Paired %(device)s") % {"device": _device(e)},
        Kind.DEVICE_UNREGISTERED: lambda e: _("%(device)s unpaired itself") % {"device": _device(e)},
        Kind.PAIRING_TOKEN_CREATED: lambda e: _("Started pairing a phone"),
        Kind.PUSH_TOKEN_DEAD: lambda e: _("%(device)s stopped receiving notifications") % {"device": _device(e)},
        Kind.PUSH_TOKEN_ROTATED: lambda e: _("%(device)s renewed its notification address") % {"device": _device(e)},
        Kind.BACKUP_CODE_USED: lambda e: _("Signed in with a backup code"),
        Kind.BACKUP_CODES_GENERATED: lambda e: _("Created a new set of backup codes"),
        Kind.CREDENTIAL_ADDED: lambda e: _("Added %(method)s") % {"method": _method_phrase(e)},
        Kind.CREDENTIAL_REVOKED: lambda e: _("Removed %(method)s") % {"method": _method_phrase(e)},
        Kind.PRIMARY_CHANGED: lambda e: _("Made %(method)s your main method") % {"method": _method_phrase(e)},
        Kind.MFA_RESET: lambda e: _("Two-step verification was reset"),
        Kind.SIGN_COUNT_REGRESSION: lambda e: _("A security key answered like a copy of itself"),
        Kind.BROWSER_TRUSTED: lambda e: _("A browser was trusted to skip the second step"),
    }


WARNINGS = {
    Kind.PUSH_DENIED, Kind.WRONG_NUMBER, Kind.PUSH_REPORTED, Kind.PUSH_SUSPENDED, Kind.RATE_LIMITED,
    Kind.MFA_FAILED, Kind.SIGN_COUNT_REGRESSION, Kind.MFA_RESET,
}


# Events whose credential's own name is worth repeating under the title ("Added an authenticator app").
NAMED = {Kind.CREDENTIAL_ADDED, Kind.CREDENTIAL_REVOKED, Kind.PRIMARY_CHANGED, Kind.MFA_COMPLETED}


def describe(event: SecurityEvent) -> Activity:
    """``event`` in plain words (see the module docstring)."""
    title = _titles().get(event.kind)
    details = []
    name = _name(event)
    if name and event.kind in NAMED:
        details.append(f"“{name}”")
    detail = event.detail or {}
    if event.kind == Kind.BACKUP_CODE_USED and "remaining" in detail:
        details.append(_("%(n)s codes left") % {"n": detail["remaining"]})
    if event.kind == Kind.BROWSER_TRUSTED and detail.get("days"):
        details.append(_("for %(days)s days") % {"days": detail["days"]})
    if event.actor_id and event.actor_id != event.user_id and event.actor is not None:
        details.append(_("by staff member %(name)s") % {"name": event.actor.get_username()})
    if event.ip:
        details.append(_("from %(ip)s") % {"ip": event.ip})
    return Activity(
        title=title(event) if title else str(event.get_kind_display()),
        details=details,
        warning=event.kind in WARNINGS,
    )
