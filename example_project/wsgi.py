"""WSGI entry point: ``gunicorn example_project.wsgi`` from the repository root."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
application = get_wsgi_application()

from example_project.gc_freeze import freeze_loaded_site  # noqa: E402 - after Django is set up

freeze_loaded_site()  # full garbage collections skip the loaded site (docs/deployment.md, "Latency")
