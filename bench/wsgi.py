"""WSGI entry point of the benchmark (the example site with ``bench.settings``)."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
