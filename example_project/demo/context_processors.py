from django.http import HttpRequest

from django_pushmfa.adapter import get_adapter
from django_pushmfa.app_settings import app_settings


def site(request: HttpRequest) -> dict:
    return {
        # The one source of the site's name (PUSHMFA_SITE_NAME here), as on the MFA pages.
        "brand_name": get_adapter().get_site_name(request),
        "simulator_enabled": app_settings.PHONE_SIMULATOR_ENABLED,
    }
