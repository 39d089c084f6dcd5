from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    return {
        "brand_name": getattr(settings, "PUSHMFA_SITE_NAME", "Acme Workspace"),
        "simulator_enabled": settings.DEMO_PHONE_SIMULATOR,
    }
