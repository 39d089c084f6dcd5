"""WSGI entry point of the benchmark (the example site with ``bench.settings``)."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()

from bench.servers import freeze_unless_typical  # noqa: E402 - after Django is set up

freeze_unless_typical()
