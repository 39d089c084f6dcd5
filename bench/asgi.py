"""ASGI entry point of the benchmark (the example site with ``bench.settings``); the browsers' long
polls wait in ``django_pushmfa.asgi.LongPollMiddleware`` unless ``PUSHMFA_BENCH_PLAIN_ASGI=1``."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from django.core.asgi import get_asgi_application

application = get_asgi_application()
if os.environ.get("PUSHMFA_BENCH_PLAIN_ASGI") != "1":
    from django_pushmfa.asgi import LongPollMiddleware

    application = LongPollMiddleware(application)

from bench.servers import freeze_unless_typical  # noqa: E402 - after Django is set up

freeze_unless_typical()
