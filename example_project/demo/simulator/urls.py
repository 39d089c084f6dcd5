"""Phone simulator URLs (development only; see ``views.simulator_only``)."""
from django.urls import path

from . import views

app_name = "simulator"

urlpatterns = [
    path("", views.page, name="page"),
    path("browser/", views.browser_phone, name="browser"),
    path("api/browser-inbox/", views.browser_inbox, name="browser-inbox"),
    path("api/phones/", views.phone_list, name="phones"),
    path("api/pair/", views.pair, name="pair"),
    path("api/phones/<int:phone_id>/inbox/", views.inbox, name="inbox"),
    path("api/phones/<int:phone_id>/challenges/", views.challenges, name="challenges"),
    path("api/phones/<int:phone_id>/challenges/<uuid:challenge_id>/", views.challenge, name="challenge"),
    path("api/phones/<int:phone_id>/challenges/<uuid:challenge_id>/respond/", views.respond, name="respond"),
    path("api/phones/<int:phone_id>/forget/", views.forget, name="forget"),
]
