"""How every django-pushmfa page is rendered inside the host site's look.

:func:`render_page` is ``django.shortcuts.render`` plus the context every page template needs:

- ``pushmfa_base_template``: the template the pages extend, ``PUSHMFA_BASE_TEMPLATE`` (the
  package's own stand-alone ``pushmfa/base.html`` by default, or the site's ``base.html``);
- ``pushmfa_embedded``: True when that is the site's template (the pages then bring their own
  stylesheet link, since the site's ``<head>`` does not have it);
- ``pushmfa_site_name``: the site's name, from the adapter (``get_site_name``), the one source of it.
"""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..adapter import get_adapter
from ..app_settings import app_settings

DEFAULT_BASE_TEMPLATE = "pushmfa/base.html"


def page_context(request: HttpRequest) -> dict[str, Any]:
    """The layout variables of a django-pushmfa page (see the module docstring)."""
    base = str(app_settings.BASE_TEMPLATE or DEFAULT_BASE_TEMPLATE)
    return {
        "pushmfa_base_template": base,
        "pushmfa_embedded": base != DEFAULT_BASE_TEMPLATE,
        "pushmfa_site_name": get_adapter().get_site_name(request),
    }


def render_page(
    request: HttpRequest, template_name: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HttpResponse:
    """Render a django-pushmfa page with :func:`page_context` under ``context``."""
    return render(request, template_name, {**page_context(request), **(context or {})}, status=status)
