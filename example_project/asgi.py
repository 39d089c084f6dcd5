"""ASGI entry point: ``uvicorn example_project.asgi:application`` from the repository root.

``LongPollMiddleware`` makes the browsers' long polls wait on the event loop, before Django, so a
waiting browser holds no thread (django_pushmfa/asgi.py)."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
django_application = get_asgi_application()

from django_pushmfa.asgi import LongPollMiddleware  # noqa: E402 - after Django is set up

application = LongPollMiddleware(django_application)

from example_project.gc_freeze import freeze_loaded_site  # noqa: E402 - after Django is set up

freeze_loaded_site()  # full garbage collections skip the loaded site (docs/deployment.md, "Latency")
