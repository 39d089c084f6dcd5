"""The example site's URLs plus the bare DRF endpoint the benchmark compares with."""
from django.urls import path

from bench.views import Ping
from example_project.urls import urlpatterns as site_urlpatterns

urlpatterns = [path("bench/ping/", Ping.as_view(), name="bench-ping"), *site_urlpatterns]
