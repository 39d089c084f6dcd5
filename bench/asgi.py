"""ASGI entry point of the benchmark (the example site with ``bench.settings``)."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from django.core.asgi import get_asgi_application

application = get_asgi_application()
