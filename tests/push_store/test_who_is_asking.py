"""Who is asking: the site's name, the purpose and the service travel in the challenge's context, the
push's data and its visible text (contract v1.1; Microsoft Authenticator's "additional context")."""
from __future__ import annotations

import json

import pytest
from django.test import RequestFactory

from django_pushmfa.adapter import DefaultMFAAdapter
from django_pushmfa.push.backends import locmem
from django_pushmfa.push.internal import challenges
from django_pushmfa.push.internal.context import build_context
from django_pushmfa.push.internal.delivery import challenge_text

pytestmark = pytest.mark.django_db


class PayrollAdapter(DefaultMFAAdapter):
    def get_push_service(self, request, user):
        return "Payroll\u202e\n" + "x" * 200  # control characters dropped, length capped


def test_the_site_name_setting_wins_over_the_host(settings):
    request = RequestFactory().get("/")
    assert build_context(request)["site_name"] == "testserver"
    settings.PUSHMFA_SITE_NAME = "Acme Workspace"
    assert build_context(request)["site_name"] == "Acme Workspace"
    assert DefaultMFAAdapter().get_site_name(None) == "Acme Workspace"


def test_purpose_and_service(settings):
    request = RequestFactory().get("/")
    context = build_context(request, purpose="reauthentication", service="Admin")
    assert (context["purpose"], context["service"]) == ("reauthentication", "Admin")
    with pytest.raises(ValueError):
        build_context(request, purpose="transfer-money")
    settings.PUSHMFA_ADAPTER = "tests.push_store.test_who_is_asking.PayrollAdapter"
    service = build_context(request)["service"]
    assert service.startswith("Payroll" + "x") and len(service) == 100
    assert build_context(request, service="Explicit")["service"] == "Explicit"  # the caller's wins


@pytest.mark.parametrize(
    ("context", "title", "body"),
    [
        ({"location": "Porto, Portugal"}, "Login request", "New login from Porto, Portugal"),
        ({"location": "Porto", "site_name": "Acme"}, "Login request", "Acme: new login from Porto"),
        (
            {"location": "Porto", "site_name": "Acme", "service": "Payroll", "purpose": "login"},
            "Login request",
            "Payroll on Acme: new login from Porto",
        ),
        (
            {"location": "Porto", "site_name": "Acme", "purpose": "reauthentication"},
            "Confirm it's you",
            "Acme asks you to confirm it's you (request from Porto)",
        ),
        ({"purpose": "reauthentication"}, "Confirm it's you", "Confirm it's you (request from unknown location)"),
    ],
)
def test_visible_text(context, title, body):
    assert challenge_text(context) == (title, body)


def test_a_reauthentication_push_says_so_everywhere(settings, user, device, browser):
    settings.PUSHMFA_SITE_NAME = "Acme Workspace"
    challenge = challenges.start_push(browser(), user, purpose="reauthentication", service="Admin")
    context = challenges.get_for_device(device, challenge.id).to_device_json()["context"]
    assert (context["site_name"], context["purpose"], context["service"]) == (
        "Acme Workspace",
        "reauthentication",
        "Admin",
    )
    [message] = locmem.outbox
    assert message.data == {
        "type": "pushmfa.challenge",
        "challenge_id": challenge.id,
        "purpose": "reauthentication",
        "site_name": "Acme Workspace",
        "service": "Admin",
    }
    assert message.title == "Confirm it's you"
    assert message.body.startswith("Admin on Acme Workspace asks you to confirm it's you")
    # Still no number anywhere in what leaves the server.
    wire = json.dumps([message.title, message.body, message.data]).replace(challenge.id, "")
    for number in challenge.choices:
        assert number not in wire
