"""Keep the loaded site out of the garbage collector's full collections (docs/deployment.md, "Latency").

A full (generation 2) collection walks every object the process holds — for a loaded Django site
with this app some 180,000 — and stops every request of the process meanwhile: 70 ms measured
(bench/README.md, finding 16). ``gc.freeze()`` after loading moves those objects to a permanent
generation the collector skips; a full collection then walks only what requests made (9 ms).
Call it at the end of the WSGI/ASGI module, after the application was created.
"""
import gc


def freeze_loaded_site() -> None:
    """Import every URLconf and view (Django would on the first request), then freeze what is loaded."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the property imports them
    gc.collect()
    gc.freeze()
