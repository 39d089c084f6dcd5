from django.conf import settings
from django.http import HttpRequest

from django_pushmfa.adapter import get_adapter


def site(request: HttpRequest) -> dict:
    return {
        # The one source of the site's name (PUSHMFA_SITE_NAME here), as on the MFA pages.
        "brand_name": get_adapter().get_site_name(request),
        "simulator_enabled": settings.DEMO_PHONE_SIMULATOR,
    }
