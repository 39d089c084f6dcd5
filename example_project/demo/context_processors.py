from django.conf import settings
from django.http import HttpRequest

from django_pushmfa.app_settings import app_settings


def site(request: HttpRequest) -> dict:
    return {
        "brand_name": getattr(settings, "PUSHMFA_SITE_NAME", "Acme Workspace"),
        "simulator_enabled": app_settings.PHONE_SIMULATOR_ENABLED,
    }
