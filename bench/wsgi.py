"""WSGI entry point of the benchmark (the example site with ``bench.settings``)."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()

# As docs/deployment.md recommends (example_project/gc_freeze.py); not for the "typical site"
# servers (PUSHMFA_BENCH_SITE=typical*), nor with PUSHMFA_BENCH_GC_FREEZE=0.
if os.environ.get("PUSHMFA_BENCH_GC_FREEZE", "1") == "1" and not os.environ.get("PUSHMFA_BENCH_SITE", "").startswith(
    "typical"
):
    from example_project.gc_freeze import freeze_loaded_site

    freeze_loaded_site()
