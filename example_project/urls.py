"""URLs of the example site: its own pages and login, the MFA app at ``mfa/``, the admin, the simulator."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("dashboard/", views.dashboard, name="dashboard"),
    # the app-client demo: a single-page app and the protected DRF view it calls with its token
    path("spa/", views.spa, name="spa"),
    path("api/me/", views.Me.as_view(), name="api-me"),
    path("mfa/", include("django_pushmfa.urls")),
    path("admin/", admin.site.urls),
    # development only: every simulator view answers 404 unless DEMO_PHONE_SIMULATOR (settings.py)
    path("simulator/", include("example_project.demo.simulator.urls")),
]
