"""Signals sent by django-pushmfa. Each lists the keyword arguments it is sent with.

Receivers run inside the request that caused them; keep them fast (queue slow work).
"""
from __future__ import annotations

from django.dispatch import Signal

# A credential became active. Args: user, credential, request (may be None).
credential_added = Signal()

# A credential was revoked. Args: user, credential, actor (None when the user did it), reason.
credential_revoked = Signal()

# A staff member reset a user's MFA (every credential revoked, backup codes invalidated).
# Args: user, actor, reason, revoked (list of MFACredential).
mfa_reset = Signal()

# A security event was recorded. Args: event (SecurityEvent).
security_event_recorded = Signal()

# A push challenge was created. Args: challenge (push.store.Challenge), user, request.
challenge_created = Signal()

# A challenge was approved by a device. Args: challenge, user, device (PushDevice).
challenge_approved = Signal()

# A challenge was denied (deny, report or wrong number). Args: challenge, user, device, reason
# ("denied" | "reported" | "wrong_number").
challenge_denied = Signal()

# A pending challenge was expired (superseded by a newer one, or found past its window).
# Args: challenge, user.
challenge_expired = Signal()

# Push was suspended for a user after repeated denials / wrong numbers / reports.
# Args: user, until (datetime), reason.
push_suspended = Signal()

# A backup code was used. Args: user, remaining (int), request.
backup_code_used = Signal()

# The MFA step completed and the user is logged in. Args: user, method, request.
mfa_completed = Signal()

# A logged-in session re-authenticated (step-up). Args: user, method, request.
reauthenticated = Signal()
