"""django-pushmfa: push-notification MFA with number matching for Django sites."""

__version__ = "0.1.0"
