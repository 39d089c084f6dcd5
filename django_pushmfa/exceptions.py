"""The app's own exception types.

Provider libraries, the cache and the flows raise many different errors; everything that crosses
into views is one of these, so the API can answer with the contract's stable ``code``.
"""
from __future__ import annotations


class PushMFAError(Exception):
    """Base class for every error this app raises on purpose."""

    code = "error"


# --- challenge store / flows -------------------------------------------------------------------
class ChallengeStoreUnavailable(PushMFAError):
    """The challenge store (cache / Redis) cannot be reached. Logins fail closed."""

    code = "service_unavailable"


class ChallengeNotFound(PushMFAError):
    code = "not_found"


class ChallengeExpired(PushMFAError):
    code = "challenge_expired"


class ChallengeResolved(PushMFAError):
    code = "challenge_resolved"


class WrongNumber(PushMFAError):
    code = "wrong_number"


class NoPushDevice(PushMFAError):
    code = "no_push_device"


class PushSuspended(PushMFAError):
    code = "push_suspended"

    def __init__(self, retry_after: int | None = None) -> None:
        super().__init__("Push is suspended for this account.")
        self.retry_after = retry_after


class RateLimited(PushMFAError):
    code = "rate_limited"

    def __init__(self, retry_after: int, scope: str = "") -> None:
        super().__init__(f"Too many attempts ({scope}).")
        self.retry_after = max(1, int(retry_after))
        self.scope = scope
        # Set by the challenge stores: True only for the first refusal in the limit's window.
        self.first_in_window = False


class InvalidCode(PushMFAError):
    code = "invalid_code"


class CodesLocked(InvalidCode):
    """Typed codes are locked after too many consecutive failures, until the user recovers."""

    code = "method_not_available"


class InvalidPairingToken(PushMFAError):
    code = "invalid_pairing_token"


class MFANotInProgress(PushMFAError):
    """No login awaits its second factor in this session (or its user went away)."""

    code = "mfa_not_in_progress"


# --- push providers ------------------------------------------------------------------------------
class PushError(PushMFAError):
    """A provider failed to accept a push. ``provider_code`` is the provider's own error code."""

    code = "push_error"

    def __init__(self, message: str = "", *, provider_code: str | None = None, status: int | None = None) -> None:
        super().__init__(message or provider_code or "push failed")
        self.provider_code = provider_code
        self.status = status


class PushTokenUnregistered(PushError):
    """The provider says the device token is no longer valid (FCM UNREGISTERED, APNs 410)."""

    code = "push_token_dead"


class PushTemporaryError(PushError):
    """A provider outage, timeout or 5xx: worth retrying later, the token is still fine."""

    code = "push_temporary_error"


class PushConfigurationError(PushError):
    """Bad credentials or options for a provider."""

    code = "push_configuration_error"


class MissingProviderLibrary(PushConfigurationError):
    """An optional provider library is not installed; the message says which extra to install."""

    def __init__(self, library: str, extra: str) -> None:
        super().__init__(
            f"The {library!r} package is needed for this push backend. "
            f'Install it with: pip install "django-pushmfa[{extra}]"'
        )
        self.library = library
        self.extra = extra
