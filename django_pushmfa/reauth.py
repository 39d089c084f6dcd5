"""Step-up for the host site's own sensitive views (change e-mail, delete account, payment settings).

- ``@reauthentication_required`` for function views, :class:`ReauthenticationRequiredMixin` for
  class-based views: a fully logged-in session that has not authenticated within
  ``PUSHMFA_REAUTH_WINDOW`` is sent to the app's re-authentication page (``pushmfa:reauthenticate``)
  with ``next`` set to the page it asked for; the view does not run. An anonymous session goes to
  the login page, an MFA-pending one to the MFA step.
- DRF views: :class:`django_pushmfa.api.permissions.RecentlyAuthenticated` answers
  ``403 {"code": "reauthentication_required", "reauthenticate_url": ...}``.

The app's own credential pages and endpoints use these same ones.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse

from .internal import pending
from .internal import reauth as _reauth

is_recent = _reauth.is_recent

__all__ = ["ReauthenticationRequiredMixin", "is_recent", "reauthentication_required", "step_up_response"]


def step_up_response(request: HttpRequest) -> HttpResponse | None:
    """The redirect a page request needs before a sensitive action; None when the session may go on."""
    if pending.get(request) is not None:
        return HttpResponseRedirect(reverse("pushmfa:authenticate"))
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if _reauth.is_recent(request):
        return None
    return HttpResponseRedirect(_reauth.reauthenticate_url(request.get_full_path()))


def reauthentication_required(
    view: Callable[..., HttpResponse] | None = None, *, methods: Iterable[str] | None = None
) -> Any:
    """Decorator: the view runs only for a session that authenticated recently.

    ``methods`` limits the check to those HTTP methods (``methods=["POST"]``: the page shows, the
    change needs the step-up); by default every request is checked.
    """
    only = {m.upper() for m in methods} if methods is not None else None

    def decorator(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if only is None or request.method in only:
                response = step_up_response(request)
                if response is not None:
                    return response
            return func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator


class ReauthenticationRequiredMixin:
    """Class-based views: put it first among the bases. ``reauthentication_methods`` limits the
    check to those HTTP methods (None: every request)."""

    reauthentication_methods: Iterable[str] | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        methods = self.reauthentication_methods
        if methods is None or request.method in {m.upper() for m in methods}:
            response = step_up_response(request)
            if response is not None:
                return response
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
