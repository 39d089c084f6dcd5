"""From django-otp (and django-two-factor-auth, which stores its authenticator-app and backup-token
devices in django-otp's ``otp_totp`` and ``otp_static``): confirmed TOTP devices and static
(backup) tokens. Phone (SMS / voice), e-mail, HOTP and YubiKey devices have no counterpart here: they
are reported as skipped."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.apps import apps

from ...models import MFACredential
from . import Imported, Skipped, backup_code_set, default_label, hex_to_base32

SUPPORTED_DIGITS = (6, 8)


def _models() -> tuple[Any, Any]:
    if not apps.is_installed("django_otp"):
        raise LookupError('django-otp is not in INSTALLED_APPS ("django_otp" and its otp_totp / otp_static plugins).')
    def model(app: str, label: str, name: str) -> Any:
        return apps.get_model(label, name) if apps.is_installed(app) else None

    return (
        model("django_otp.plugins.otp_totp", "otp_totp", "TOTPDevice"),
        model("django_otp.plugins.otp_static", "otp_static", "StaticDevice"),
    )


def user_ids() -> set[Any]:
    from django_otp import device_classes

    ids: set[Any] = set()
    for model in device_classes():
        ids |= set(model.objects.filter(confirmed=True).values_list("user_id", flat=True))
    return ids


def credentials(user: Any) -> Iterator[Imported | Skipped]:
    from django_otp import devices_for_user

    totp_model, static_model = _models()
    for device in devices_for_user(user, confirmed=True):
        source_id = device.persistent_id  # "<app>.<model>/<pk>"
        if totp_model is not None and isinstance(device, totp_model):
            if device.t0 != 0:
                yield Skipped(source_id, f"TOTP with t0={device.t0} (only t0=0 is supported)")
            elif device.digits not in SUPPORTED_DIGITS:
                yield Skipped(source_id, f"TOTP with {device.digits} digits")
            else:
                yield Imported(
                    MFACredential.Method.TOTP,
                    source_id,
                    label=device.name or default_label(MFACredential.Method.TOTP),
                    totp_secret=hex_to_base32(device.key),
                    totp_digits=device.digits,
                    totp_period=device.step,
                    # django-otp's last verified time step: a code already used there stays used here.
                    totp_last_step=device.last_t,
                )
        elif static_model is not None and isinstance(device, static_model):
            codes = list(device.token_set.values_list("token", flat=True))
            if codes:
                yield backup_code_set(source_id, codes)
        else:
            yield Skipped(source_id, f"{type(device).__name__} has no counterpart in django-pushmfa")
