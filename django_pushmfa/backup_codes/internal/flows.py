"""Request-level backup-code operations, shared by the HTML page and the JSON API.

- :func:`generate_set`: a new set, shown once; every earlier unused code and the previous set's
  credential are revoked in the same transaction.
- :func:`verify_login`: the MFA step with a backup code. Pure verification (returns the credential);
  the caller then calls :func:`django_pushmfa.internal.login.finish_step`, the one writer of ``last_used_at``.
"""
from __future__ import annotations

from typing import Any, NoReturn, cast

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from ... import services, signals
from ...adapter import get_adapter
from ...app_settings import app_settings
from ...exceptions import InvalidCode
from ...internal import throttle
from ...models import BackupCode, MFACredential, SecurityEvent
from . import auth


def generate_set(request: HttpRequest | None, user: Any) -> tuple[MFACredential, list[str]]:
    """Create a new set of ``PUSHMFA_BACKUP_CODE_COUNT`` codes for ``user``; returns (credential, codes).

    The plain codes exist only in the return value: show them once, never store or log them.
    """
    count = int(app_settings.BACKUP_CODE_COUNT)
    codes = [auth.generate_code() for _ in range(count)]
    with transaction.atomic():
        previous = list(
            MFACredential.objects.active()
            .for_user(user)
            .filter(method=MFACredential.Method.BACKUP_CODES)
            .select_for_update()
        )
        for old in previous:
            services.revoke_credential(old, actor=None, reason="replaced by a new set", request=request)
        # Codes not tied to a set (should not exist, but never leave a usable one behind).
        BackupCode.objects.filter(user=user, used_at__isnull=True).update(used_at=timezone.now())
        credential = services.add_credential(
            user, MFACredential.Method.BACKUP_CODES, label=str(_("Backup codes")), request=request
        )
        BackupCode.objects.bulk_create(
            [
                # A generated code always normalises (never None).
                BackupCode(
                    user=user, credential=credential, code_hash=auth.code_hash(user, cast(str, auth.normalize(c)))
                )
                for c in codes
            ]
        )
        services.record_event(
            user, SecurityEvent.Kind.BACKUP_CODES_GENERATED, request=request, credential=credential, count=count
        )
    services.notify_credential_added(credential, request)
    return credential, codes


def verify_login(request: HttpRequest, user: Any, code: Any) -> MFACredential | None:
    """Use one backup code of ``user`` for the MFA step; returns the set's credential (None only for a
    code without a set when the user has no active set either: never generated so).

    Raises :class:`~django_pushmfa.exceptions.RateLimited` during a back-off (shared with TOTP) and
    :class:`~django_pushmfa.exceptions.InvalidCode` for a wrong, malformed or already used code.
    Each use records a SecurityEvent, sends ``signals.backup_code_used`` and the alert email.
    """
    throttle.check(user)
    normalized = auth.normalize(code)
    used = auth.consume(user, normalized) if normalized is not None else None
    if used is None:
        _fail(request, user)
    throttle.reset(user)
    left = auth.remaining(user)
    credential = used.credential
    if credential is None:  # pragma: no cover - every code is generated with its set
        credential = MFACredential.objects.active().for_user(user).filter(method="backup_codes").first()
    services.record_event(
        user, SecurityEvent.Kind.BACKUP_CODE_USED, request=request, credential=credential, remaining=left
    )
    signals.backup_code_used.send(sender=MFACredential, user=user, remaining=left, request=request)
    warn = left <= int(app_settings.BACKUP_CODE_WARN_REMAINING)
    get_adapter().send_alert(user, "backup_code_used", {"remaining": left, "warn": warn, "credential": credential})
    return credential


def _fail(request: HttpRequest, user: Any) -> NoReturn:
    throttle.record_failure(user, request, method="backup_code", stage="login")
    services.alert_second_step_failed(user, request, "code")
    raise InvalidCode()
