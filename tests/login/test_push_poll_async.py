"""The native async poll view (``PUSHMFA_ASYNC_POLL``): the same contract as the sync poll, driven
through the WSGI-style test Client and through Django's AsyncClient (the ASGI path)."""
from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import SESSION_KEY
from django.test import AsyncClient, Client
from django.urls import reverse

from django_pushmfa.models import SecurityEvent

from .conftest import JSON

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _async_poll(settings):
    settings.PUSHMFA_ASYNC_POLL = True


@pytest.fixture
def phone(user, add_phone):
    return add_phone(user)


def start(client):
    response = client.post(reverse("pushmfa:api-push-start"), {}, content_type="application/json", **JSON)
    assert response.status_code == 201
    body = response.json()
    assert body["poll_url"] == f"/mfa/api/push/{body['challenge_id']}/async/"
    return body


def test_full_flow_with_the_sync_client(client, user, phone, login_with_password):
    login_with_password(client, user, next="/private/")
    body = start(client)
    assert client.get(body["poll_url"] + "?wait=1", **JSON).json() == {"status": "pending"}
    phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    response = client.get(body["poll_url"] + "?wait=5", **JSON)
    assert response.status_code == 200
    assert response.json() == {"status": "approved", "redirect_url": "/private/"}
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.get(body["poll_url"], **JSON).json() == {"status": "consumed"}
    # The contract's path answers the same for this challenge.
    assert client.get(f"/mfa/api/push/{body['challenge_id']}/", **JSON).json() == {"status": "consumed"}
    assert SecurityEvent.objects.filter(user=user, kind="mfa_completed").count() == 1


def test_async_client(client, user, phone, login_with_password):
    login_with_password(client, user)
    body = start(client)
    async_client = AsyncClient()
    async_client.cookies = client.cookies
    phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    response = async_to_sync(async_client.get)(body["poll_url"], {"wait": "3"}, headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json()["status"] == "approved"
    client.cookies.update(response.cookies)
    assert client.get("/api/whoami/", **JSON).json() == {"username": user.username}


def test_errors(client, user, phone, login_with_password):
    login_with_password(client, user)
    body = start(client)
    for wait in ("-1", "2.5", "x"):
        response = client.get(body["poll_url"], {"wait": wait}, **JSON)
        assert response.status_code == 400 and response.json()["code"] == "invalid"
    other = Client()
    login_with_password(other, user)
    response = other.get(body["poll_url"], **JSON)
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    response = Client().get(body["poll_url"], **JSON)
    assert response.status_code == 403 and response.json()["code"] == "mfa_not_in_progress"
    response = client.get("/mfa/api/push/nope/async/", **JSON)
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    response = client.post(body["poll_url"], **JSON)
    assert response.status_code == 405


def test_denied_and_expired(client, user, phone, login_with_password, settings):
    login_with_password(client, user)
    body = start(client)
    phone.respond(body["challenge_id"], "deny")
    assert client.get(body["poll_url"], {"wait": "2"}, **JSON).json() == {"status": "denied", "reason": "denied"}
    settings.PUSHMFA_CHALLENGE_TTL = 0
    body = start(client)
    assert client.get(body["poll_url"], {"wait": "2"}, **JSON).json() == {"status": "expired"}


def test_long_poll_wakes_up_when_the_phone_answers(client, user, phone, login_with_password):
    """The async poll waits; the phone answers meanwhile (same thread, so SQLite is fine too)."""
    import asyncio
    import time

    from asgiref.sync import sync_to_async

    login_with_password(client, user)
    body = start(client)
    async_client = AsyncClient()
    async_client.cookies = client.cookies

    async def answer_later():
        await asyncio.sleep(0.3)
        await sync_to_async(phone.respond)(body["challenge_id"], "approve", selected_number=body["display_number"])

    async def scenario():
        began = time.monotonic()
        response, _ = await asyncio.gather(
            async_client.get(body["poll_url"], {"wait": "20"}, headers={"Accept": "application/json"}),
            answer_later(),
        )
        return response, time.monotonic() - began

    response, elapsed = async_to_sync(scenario)()
    assert response.json()["status"] == "approved"
    assert elapsed < 15  # generous: woken by the answer, not by the 20 s timeout


def test_middleware_in_async_mode_redirects_pending_pages(client, user, phone, login_with_password):
    from django_pushmfa.middleware import MFAMiddleware

    async def view(request):  # an async get_response: the middleware runs in async mode
        from django.http import HttpResponse

        return HttpResponse("through")

    assert MFAMiddleware(view).is_async
    login_with_password(client, user)
    async_client = AsyncClient()
    async_client.cookies = client.cookies
    response = async_to_sync(async_client.get)("/private/", headers={"Accept": "text/html"})
    assert response.status_code == 302 and response["Location"] == "/mfa/authenticate/?next=%2Fprivate%2F"
    response = async_to_sync(async_client.get)("/api/whoami/", headers={"Accept": "application/json"})
    assert response.status_code == 403


def _count_hops(monkeypatch):
    """Hops of the app's push code to a thread (each sync_to_async it makes), counted per call."""
    from asgiref import sync

    hops = []
    init = sync.SyncToAsync.__init__

    def counted(self, func, *args, **kwargs):  # noqa: ANN001, ANN202
        if getattr(func, "__module__", "").startswith("django_pushmfa.push"):
            hops.append(func.__name__)
        init(self, func, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__init__", counted)
    return hops


def test_a_poll_takes_at_most_two_hops_to_a_thread(client, user, phone, login_with_password, monkeypatch):
    # The check, the read and handing back the connections are one hop; the wait none; finishing one.
    login_with_password(client, user)
    body = start(client)
    async_client = AsyncClient()
    async_client.cookies = client.cookies
    hops = _count_hops(monkeypatch)
    get = async_to_sync(async_client.get)
    response = get(body["poll_url"], {"wait": "1"}, headers={"Accept": "application/json"})
    assert response.json() == {"status": "pending"}
    assert hops == ["_read_for_wait", "finish"]
    hops.clear()
    phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    response = get(body["poll_url"], headers={"Accept": "application/json"})
    assert response.json()["status"] == "approved"
    assert hops == ["_checked_poll"]  # wait=0: check, claim and log in, in one hop
