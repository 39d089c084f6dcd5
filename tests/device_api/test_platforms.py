"""Devices without FCM or APNs (contract v1.1): ``unifiedpush`` (the push token is the distributor's
https endpoint URL) and ``none`` (no push token; the app polls)."""
from __future__ import annotations

import pytest
from django.test import Client, RequestFactory, override_settings

from django_pushmfa.models import PairingToken, PushDevice
from django_pushmfa.push.backends import locmem
from django_pushmfa.push.internal import challenges as challenge_flows
from django_pushmfa.testing.phone import DjangoClientTransport, PhoneAPIError, PhoneClient, PhoneKey

pytestmark = pytest.mark.django_db

ENDPOINT = "https://ntfy.example.net/upAbCdEf123?up=1"


def new_phone() -> PhoneClient:
    return PhoneClient(DjangoClientTransport(Client()), PhoneKey.generate("p256"))


def refused(phone: PhoneClient, token: str, **fields) -> dict:
    with pytest.raises(PhoneAPIError) as info:
        phone.register(token, **fields)
    assert (info.value.status, info.value.code) == (400, "invalid")
    return info.value.response.json()["errors"]


def test_a_unifiedpush_phone_registers_with_its_endpoint_url(user, issue_token):
    phone = new_phone()
    device_id = phone.register(issue_token(user), platform="unifiedpush", push_token=ENDPOINT, name="GrapheneOS")
    device = PushDevice.objects.get(pk=device_id)
    assert (device.platform, device.push_token) == ("unifiedpush", ENDPOINT)


def test_a_poll_only_phone_registers_without_a_push_token(user, issue_token):
    phone = new_phone()
    device_id = phone.register(issue_token(user), platform="none", name="No Google")
    device = PushDevice.objects.get(pk=device_id)
    assert (device.platform, device.push_token) == ("none", "")
    assert new_phone().register(issue_token(user), platform="none", push_token="")  # an empty token is none too


@pytest.mark.parametrize(
    "url",
    [
        "http://ntfy.example.net/up",
        "https://10.0.0.1/up",
        "https://169.254.169.254/latest/",
        "https://[::1]/up",
        "https://localhost/up",
        "https://u:p@ntfy.example.net/up",
        "not a url",
        "fcm-token-1",
    ],
)
def test_unifiedpush_refuses_endpoint_urls_the_server_may_not_post_to(user, issue_token, url):
    token = issue_token(user)
    errors = refused(new_phone(), token, platform="unifiedpush", push_token=url)
    assert list(errors) == ["push_token"]
    assert PairingToken.objects.get(used_at__isnull=True).pk  # the token was not spent
    assert not PushDevice.objects.exists()


def test_unifiedpush_endpoints_off_the_allow_list_are_refused(user, issue_token):
    with override_settings(PUSHMFA_UNIFIEDPUSH_ALLOWED_HOSTS=["ntfy.sh"]):
        refused(new_phone(), issue_token(user), platform="unifiedpush", push_token=ENDPOINT)
        assert new_phone().register(issue_token(user), platform="unifiedpush", push_token="https://ntfy.sh/upX")


def test_unifiedpush_needs_a_configured_backend(user, issue_token, settings):
    settings.PUSHMFA_PUSH_BACKENDS = {"fcm": {"BACKEND": "django_pushmfa.push.backends.locmem.PushBackend"}}
    errors = refused(new_phone(), issue_token(user), platform="unifiedpush", push_token=ENDPOINT)
    assert list(errors) == ["platform"]


def test_none_refuses_a_push_token_and_fcm_still_needs_one(user, issue_token):
    assert list(refused(new_phone(), issue_token(user), platform="none", push_token="fcm-token")) == ["push_token"]
    assert list(refused(new_phone(), issue_token(user), platform="fcm")) == ["push_token"]
    assert list(refused(new_phone(), issue_token(user), platform="fcm", push_token="")) == ["push_token"]
    assert list(refused(new_phone(), issue_token(user), platform="webpush", push_token="x")) == ["platform"]


def test_rotating_a_unifiedpush_endpoint_is_checked_as_at_registration(user, issue_token):
    phone = new_phone()
    phone.register(issue_token(user), platform="unifiedpush", push_token=ENDPOINT)
    new_endpoint = "https://ntfy.example.net/upNew"
    assert phone.rotate_push_token(new_endpoint) == {"device_id": phone.device_id}
    assert PushDevice.objects.get(pk=phone.device_id).push_token == new_endpoint
    with pytest.raises(PhoneAPIError) as info:
        phone.rotate_push_token("https://192.168.0.10/up")
    assert (info.value.status, info.value.code) == (400, "invalid")
    assert PushDevice.objects.get(pk=phone.device_id).push_token == new_endpoint


def test_a_poll_only_device_has_no_token_to_rotate(user, issue_token):
    phone = new_phone()
    phone.register(issue_token(user), platform="none")
    with pytest.raises(PhoneAPIError) as info:
        phone.rotate_push_token("fcm-token")
    assert (info.value.status, info.value.code) == (400, "invalid")


def test_a_poll_only_phone_gets_no_push_and_answers_by_polling(user, issue_token):
    phone = new_phone()
    phone.register(issue_token(user), platform="none")
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9")
    request.session = Client().session
    challenge = challenge_flows.start_push(request, user)
    assert locmem.outbox == []  # nothing to push to
    [listed] = phone.challenges()
    assert listed["challenge_id"] == challenge.id
    assert phone.respond(challenge.id, "approve", selected_number=challenge.display_number) == {"status": "approved"}


def test_the_login_page_tells_a_user_with_only_poll_only_phones_to_open_the_app(client, user, password, issue_token):
    page = "/mfa/authenticate/"
    html_accept = {"HTTP_ACCEPT": "text/html"}
    phone = new_phone()
    phone.register(issue_token(user), platform="none")
    client.post("/accounts/login/", {"username": user.get_username(), "password": password})
    html = client.get(page, **html_accept).content.decode()
    assert "data-pushmfa-open-app" in html and "Open the app on your phone" in html
    # Once a phone that gets notifications is paired too, the page says the usual.
    new_phone().register(issue_token(user), platform="unifiedpush", push_token=ENDPOINT)
    html = client.get(page, **html_accept).content.decode()
    assert "data-pushmfa-open-app" not in html and "We will send a notification to your phone" in html
