"""Data model: credentials (one row per enrolled method), their method-specific data beside them,
hashed backup codes, single-use pairing tokens and the security-event log.

Nothing here is ever hard-deleted by the app: revocation sets ``revoked_at`` (see ``services``).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MFACredentialQuerySet(models.QuerySet):
    def active(self) -> MFACredentialQuerySet:
        return self.filter(revoked_at__isnull=True)

    def for_user(self, user) -> MFACredentialQuerySet:
        return self.filter(user=user)

    def authenticating(self) -> MFACredentialQuerySet:
        """Active credentials that are a second factor on their own (backup codes are not)."""
        return self.active().exclude(method=MFACredential.Method.BACKUP_CODES)


class MFACredential(models.Model):
    """One enrolled MFA method of a user. Method-specific data lives in a related model."""

    class Method(models.TextChoices):
        PUSH = "push", _("Push notification")
        TOTP = "totp", _("Authenticator app")
        WEBAUTHN = "webauthn", _("Security key or passkey")
        BACKUP_CODES = "backup_codes", _("Backup codes")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_credentials", verbose_name=_("user")
    )
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    label = models.CharField(_("label"), max_length=100, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoke_reason = models.CharField(_("revoke reason"), max_length=255, blank=True)

    objects = MFACredentialQuerySet.as_manager()

    class Meta:
        verbose_name = _("MFA credential")
        verbose_name_plural = _("MFA credentials")
        ordering = ["-is_primary", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(is_primary=True, revoked_at__isnull=True),
                name="pushmfa_one_active_primary_per_user",
            ),
        ]
        indexes = [models.Index(fields=["user", "revoked_at"], name="pushmfa_cred_user_revoked")]
        permissions = [("reset_mfa", _("Can reset a user's MFA"))]

    def __str__(self) -> str:
        return f"{self.get_method_display()}: {self.label or self.pk}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class PushDevice(models.Model):
    """The push method's data: a paired phone. Requests from it are signed with ``public_key``.

    ``push_token`` is the FCM / APNs token, the UnifiedPush endpoint URL, or empty for ``none`` (a
    poll-only app that fetches its challenges itself)."""

    class Platform(models.TextChoices):
        FCM = "fcm", "FCM"
        APNS = "apns", "APNs"
        UNIFIEDPUSH = "unifiedpush", "UnifiedPush"
        NONE = "none", _("None (the app polls)")

    class KeyType(models.TextChoices):
        P256 = "p256", "ECDSA P-256"
        ED25519 = "ed25519", "Ed25519"

    credential = models.OneToOneField(
        MFACredential, on_delete=models.CASCADE, primary_key=True, related_name="push_device"
    )
    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    push_token = models.CharField(_("push token"), max_length=512, blank=True)
    public_key = models.BinaryField(_("public key (DER SubjectPublicKeyInfo)"))
    key_type = models.CharField(_("key type"), max_length=10, choices=KeyType.choices)
    name = models.CharField(_("device name"), max_length=100, blank=True)
    # The phone owner's language (a BCP 47 tag the app sent at registration): the push title's language.
    language = models.CharField(_("language"), max_length=35, blank=True, default="")
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True)
    token_dead_at = models.DateTimeField(_("token reported dead at"), null=True, blank=True)

    class Meta:
        verbose_name = _("push device")
        verbose_name_plural = _("push devices")

    def __str__(self) -> str:
        return self.name or str(self.pk)

    @property
    def device_id(self) -> str:
        return str(self.credential_id)

    # How often last_seen_at is written at most: a write per signed request would be wasteful.
    SEEN_RESOLUTION = timedelta(seconds=60)

    def seen_stamp_due(self, now: datetime | None = None) -> bool:
        """Whether :meth:`mark_seen` would write: ``last_seen_at`` is unset or older than ``SEEN_RESOLUTION``."""
        now = now or timezone.now()
        return self.last_seen_at is None or now - self.last_seen_at >= self.SEEN_RESOLUTION

    def mark_seen(self) -> bool:
        """Set ``last_seen_at`` to now, writing at most once per ``SEEN_RESOLUTION``; True when it wrote."""
        now = timezone.now()
        if not self.seen_stamp_due(now):
            return False
        PushDevice.objects.filter(pk=self.pk).update(last_seen_at=now)
        self.last_seen_at = now
        return True


class TOTPDevice(models.Model):
    """The TOTP method's data. The seed is stored encrypted (see ``totp.internal``)."""

    credential = models.OneToOneField(
        MFACredential, on_delete=models.CASCADE, primary_key=True, related_name="totp_device"
    )
    encrypted_secret = models.TextField(_("encrypted secret"))
    digits = models.PositiveSmallIntegerField(default=6)
    period = models.PositiveSmallIntegerField(default=30)
    last_used_step = models.BigIntegerField(_("last accepted time step"), default=-1)

    class Meta:
        verbose_name = _("TOTP device")
        verbose_name_plural = _("TOTP devices")

    def __str__(self) -> str:
        return f"TOTP {self.credential_id}"


class WebAuthnKey(models.Model):
    """The WebAuthn method's data: a security key or passkey."""

    credential = models.OneToOneField(
        MFACredential, on_delete=models.CASCADE, primary_key=True, related_name="webauthn_key"
    )
    key_id = models.BinaryField(_("WebAuthn credential id"))
    key_id_b64 = models.CharField(max_length=1400, unique=True, db_index=True)
    public_key = models.BinaryField(_("public key (COSE)"))
    sign_count = models.BigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    aaguid = models.CharField(max_length=64, blank=True)
    is_passkey = models.BooleanField(_("passkey (discoverable, user-verified)"), default=False)
    backed_up = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("WebAuthn key")
        verbose_name_plural = _("WebAuthn keys")

    def __str__(self) -> str:
        return f"WebAuthn {self.credential_id}"


class BackupCode(models.Model):
    """A single-use backup code, stored only as a keyed hash (HMAC-SHA256)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_backup_codes")
    credential = models.ForeignKey(
        MFACredential, on_delete=models.CASCADE, related_name="backup_codes", null=True, blank=True
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("backup code")
        verbose_name_plural = _("backup codes")
        indexes = [models.Index(fields=["user", "code_hash"], name="pushmfa_backup_user_hash")]

    def __str__(self) -> str:
        return f"backup code {self.pk} ({'used' if self.used_at else 'unused'})"


class PairingToken(models.Model):
    """A single-use token that a phone app turns into a :class:`PushDevice`. Only its hash is kept."""

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("pairing token")
        verbose_name_plural = _("pairing tokens")

    def __str__(self) -> str:
        return f"pairing token {self.pk}"


class SecurityEvent(models.Model):
    """Append-only log of everything security-relevant that happened to a user's MFA."""

    class Kind(models.TextChoices):
        WRONG_NUMBER = "push_mfa_wrong_number", _("Wrong number picked")
        PUSH_DENIED = "push_denied", _("Push denied")
        PUSH_REPORTED = "push_reported", _("Push reported as fraud")
        PUSH_APPROVED = "push_approved", _("Push approved")
        PUSH_SUSPENDED = "push_suspended", _("Push suspended")
        RATE_LIMITED = "rate_limited", _("Rate limited")
        PUSH_TOKEN_DEAD = "push_token_dead", _("Push token reported dead")
        PUSH_TOKEN_ROTATED = "push_token_rotated", _("Push token rotated")
        DEVICE_REGISTERED = "device_registered", _("Phone paired")
        DEVICE_UNREGISTERED = "device_unregistered", _("Phone unregistered itself")
        PAIRING_TOKEN_CREATED = "pairing_token_created", _("Pairing token created")
        BACKUP_CODE_USED = "backup_code_used", _("Backup code used")
        BACKUP_CODES_GENERATED = "backup_codes_generated", _("Backup codes generated")
        CREDENTIAL_ADDED = "credential_added", _("Credential added")
        CREDENTIAL_REVOKED = "credential_revoked", _("Credential revoked")
        PRIMARY_CHANGED = "primary_changed", _("Primary method changed")
        MFA_RESET = "mfa_reset", _("MFA reset by staff")
        MFA_COMPLETED = "mfa_completed", _("MFA step completed")
        MFA_FAILED = "mfa_failed", _("MFA attempt failed")
        SIGN_COUNT_REGRESSION = "webauthn_sign_count_regression", _("Security key sign count went back")
        BROWSER_TRUSTED = "browser_trusted", _("Browser remembered")
        REAUTHENTICATED = "reauthenticated", _("Re-authenticated")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        SESSIONS_ENDED = "sessions_ended", _("Other sessions ended")
        SESSION_ENDED = "session_ended", _("Session signed out")
        BROWSER_FORGOTTEN = "browser_forgotten", _("Remembered browser forgotten")
        PASSWORD_ONLY_REFUSED = "password_only_refused", _("Password without the MFA step refused")
        CODES_LOCKED = "codes_locked", _("Typed codes locked after too many failures")
        TOTP_SECRET_REENCRYPTED = "totp_secret_reencrypted", _("TOTP seed re-encrypted under a new key")
        CREDENTIAL_IMPORTED = "credential_imported", _("Credential imported from another MFA package")

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_security_events", verbose_name=_("user")
    )
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acting staff user"),
    )
    credential = models.ForeignKey(
        MFACredential, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="pushmfa_event_user_recent"),
            # The admin dashboard's per-day series and failure rankings: a kind over a time range.
            models.Index(fields=["kind", "created_at"], name="pushmfa_event_kind_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d %H:%M})"


class UserSession(models.Model):
    """A logged-in session of a user, as the user sees it under "Your sessions".

    The session itself keeps this record's id (``internal.sessions``); ``MFAMiddleware`` logs out a
    session whose record is ended. That is what ends a session on every session engine — signed
    cookies included, which the server cannot delete.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    browser = models.CharField(_("browser"), max_length=100, blank=True)
    os = models.CharField(_("operating system"), max_length=100, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    location = models.CharField(_("approximate location"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("signed in at"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=40, blank=True)
    # The password step is done, the MFA step not yet: not listed; recovery ends it like any other.
    mfa_pending = models.BooleanField(_("MFA step pending"), default=False)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        indexes = [models.Index(fields=["user", "ended_at"], name="pushmfa_session_user_open")]

    def __str__(self) -> str:
        return f"session {self.pk}"


class RememberedBrowser(models.Model):
    """A browser the user chose to trust (skips the MFA step); the trust cookie names this record."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    browser = models.CharField(_("browser"), max_length=100, blank=True)
    os = models.CharField(_("operating system"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("remembered at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("forgotten at"), null=True, blank=True)

    class Meta:
        verbose_name = _("remembered browser")
        verbose_name_plural = _("remembered browsers")
        indexes = [models.Index(fields=["user", "revoked_at"], name="pushmfa_browser_user_open")]

    def __str__(self) -> str:
        return f"remembered browser {self.pk}"
