"""The UnifiedPush backend at the wire, against a local HTTPS distributor with a self-signed certificate,
and every refusal of its SSRF policy (``push.endpoints``): nothing refused ever reaches a server."""
from __future__ import annotations

import ipaddress
import json
import socket
import time

import pytest
from django.core import checks
from django.test import override_settings

from django_pushmfa.exceptions import PushConfigurationError, PushError, PushTemporaryError, PushTokenUnregistered
from django_pushmfa.push.backends import get_backend
from django_pushmfa.push.backends.base import PushMessage
from django_pushmfa.push.backends.unifiedpush import MAX_PAYLOAD_BYTES, PushBackend
from django_pushmfa.push.endpoints import EndpointRefused, address_allowed, check_endpoint_url, resolve_endpoint
from django_pushmfa.push.internal.delivery import send_challenge

from .unifiedpush_server import Answer, DistributorServer

CHALLENGE_ID = "0b6f1d9e-3c2a-4e8b-9f1a-2d3c4b5a6e7f"


@pytest.fixture
def server(tmp_path):
    with DistributorServer(tmp_path) as distributor:
        yield distributor


def backend_for(server, *, loopback=True, ca=True, timeout=3.0) -> PushBackend:
    testing = {}
    if loopback:
        testing["ALLOW_LOOPBACK"] = True
    if ca:
        testing["CA_FILE"] = server.ca_file
    return PushBackend({"TIMEOUT": timeout, "UNSAFE_TESTING": testing})


def message(url: str, **fields) -> PushMessage:
    values = {
        "device_token": url,
        "platform": "unifiedpush",
        "title": "Login request",
        "body": "Acme Workspace: new login from Lisbon, Portugal",
        "data": {"type": "pushmfa.challenge", "challenge_id": CHALLENGE_ID, "purpose": "login"},
        "ttl": 117,
        "collapse_id": "pushmfa-0123456789abcdef",
    }
    values.update(fields)
    return PushMessage(**values)


# --- delivery -------------------------------------------------------------------------------------
def test_the_payload_is_posted_to_the_endpoint_as_json(server):
    backend = backend_for(server)
    sent = message(server.url("/up/AbC-123?up=1"))
    backend.send(sent)
    [request] = server.received
    assert request.method == "POST"
    assert request.path == "/up/AbC-123?up=1"
    assert request.body == backend.build_payload(sent)
    assert json.loads(request.body) == {
        "type": "pushmfa.challenge",
        "challenge_id": CHALLENGE_ID,
        "purpose": "login",
        "title": "Login request",
        "body": "Acme Workspace: new login from Lisbon, Portugal",
    }
    assert request.headers["content-type"] == "application/json"
    assert request.headers["ttl"] == "117"
    assert request.headers["urgency"] == "high"
    assert request.headers["topic"] == "pushmfa-0123456789abcdef"
    assert request.headers["host"] == f"127.0.0.1:{server.port}"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (200, None),
        (201, None),
        (202, None),
        (404, PushTokenUnregistered),
        (410, PushTokenUnregistered),
        (413, PushError),
        (400, PushError),
        (429, PushTemporaryError),
        (500, PushTemporaryError),
        (503, PushTemporaryError),
    ],
)
def test_answers_map_to_the_apps_errors(server, status, error):
    server.answers = [Answer(status, body=b"x" * 100_000)]  # a large answer is not read to its end
    backend = backend_for(server)
    if error is None:
        backend.send(message(server.url()))
    else:
        with pytest.raises(error) as info:
            backend.send(message(server.url()))
        assert type(info.value) is error
        assert info.value.status == status


def test_redirects_are_not_followed(server):
    server.answers = [Answer(307, headers={"Location": server.url("/elsewhere")})]
    with pytest.raises(PushError) as info:
        backend_for(server).send(message(server.url()))
    assert info.value.provider_code == "redirect"
    assert [r.path for r in server.received] == ["/up/abc"]


def test_a_slow_server_is_cut_off_at_the_timeout(server):
    server.answers = [Answer(201, delay=8)]
    started = time.monotonic()
    with pytest.raises(PushTemporaryError) as info:
        backend_for(server, timeout=1).send(message(server.url()))
    assert info.value.provider_code == "timeout"
    assert time.monotonic() - started < 8  # well before the server would have answered


def test_a_trickling_server_cannot_hold_the_push_past_the_timeout(server):
    # One byte every 0.3 s: each read alone is within the socket timeout, the whole answer is not.
    server.answers = [Answer(201, delay=0.3, trickle=True)]
    started = time.monotonic()
    with pytest.raises(PushTemporaryError):
        backend_for(server, timeout=1).send(message(server.url()))
    assert time.monotonic() - started < 10  # the whole answer would take ~12 s


def test_an_untrusted_certificate_is_refused(server):
    with pytest.raises(PushError) as info:
        backend_for(server, ca=False).send(message(server.url()))
    assert info.value.provider_code == "tls"
    assert server.received == []


def test_a_message_over_4096_bytes_is_not_sent(server):
    with pytest.raises(PushError) as info:
        backend_for(server).send(message(server.url(), body="x" * MAX_PAYLOAD_BYTES))
    assert info.value.provider_code == "payload_too_large"
    assert server.received == []


def test_a_host_that_does_not_resolve_is_temporary(server):
    with pytest.raises(PushTemporaryError) as info:
        backend_for(server).send(message("https://no-such-host.invalid/up/abc"))
    assert info.value.provider_code == "dns"


# --- refusals ---------------------------------------------------------------------------------------
def _refused(backend: PushBackend, url: str) -> PushTokenUnregistered:
    with pytest.raises(PushTokenUnregistered) as info:
        backend.send(message(url))
    assert info.value.provider_code == "endpoint_refused"
    assert not url or url not in str(info.value)  # the URL may carry a secret topic: never in errors or logs
    return info.value


def test_loopback_is_refused_without_the_test_only_option(server):
    _refused(backend_for(server, loopback=False), server.url())
    _refused(backend_for(server, loopback=False), server.url(host="localhost"))
    assert server.received == []


def _name_resolving_to_a_local_address() -> str:
    """A host name (not an address, not "localhost") that this machine resolves to a non-public address."""
    for name in (socket.gethostname(), "localhost.localdomain", "ip6-localhost", "ip6-loopback"):
        try:
            infos = socket.getaddrinfo(name, 443, type=socket.SOCK_STREAM)
        except OSError:
            continue
        addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
        if addresses and not any(a.is_global for a in addresses):
            return name
    pytest.fail("no host name on this machine resolves to a local address (check /etc/hosts)")


def test_a_name_that_resolves_to_a_local_address_is_refused_after_resolution(server):
    name = _name_resolving_to_a_local_address()
    url = server.url(host=name)
    check_endpoint_url(url)  # the form and the name pass; only the resolution tells
    with pytest.raises(EndpointRefused):
        resolve_endpoint(url)
    _refused(backend_for(server, loopback=False), url)
    assert server.received == []


@pytest.mark.parametrize(
    "url",
    [
        "http://push.example.net/up/abc",  # not https
        "ftp://push.example.net/up/abc",
        "https://user:pw@push.example.net/up/abc",  # credentials
        "https://push.example.net/up/abc#frag",
        "https://10.0.0.7/up",  # private
        "https://172.16.0.1/up",
        "https://192.168.1.1/up",
        "https://127.0.0.1/up",  # loopback
        "https://169.254.169.254/latest/meta-data/",  # link-local (cloud metadata)
        "https://100.64.0.1/up",  # shared address space (CGNAT)
        "https://0.0.0.0/up",  # unspecified
        "https://224.0.0.1/up",  # multicast
        "https://[::1]/up",
        "https://[fe80::1]/up",
        "https://[fc00::1]/up",  # unique local
        "https://[::ffff:127.0.0.1]/up",  # IPv4-mapped loopback
        "https://[64:ff9b::a00:1]/up",  # NAT64 of 10.0.0.1
        "https://[2002:a00:1::1]/up",  # 6to4 of 10.0.0.1
        "https://localhost/up",
        "https://api.localhost/up",
        "https://push.example.net:99999/up",  # bad port
        "https://push.example.net/up path",  # white space
        "https:///up",  # no host
        "https://push.example.net/" + "a" * 512,  # too long
        "",
    ],
)
def test_refused_urls_never_reach_a_server(url):
    with pytest.raises(EndpointRefused):
        check_endpoint_url(url)
    _refused(PushBackend({"TIMEOUT": 1}), url)


def test_public_addresses_pass():
    for text in ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "1.1.1.1"):
        assert address_allowed(ipaddress.ip_address(text)), text
    assert check_endpoint_url("https://ntfy.sh/upAbC?up=1").target == "/upAbC?up=1"
    assert check_endpoint_url("https://93.184.215.14:8443/up").port == 8443


def test_the_allow_list_of_distributor_hosts(server):
    url = server.url(host="localhost")
    with override_settings(PUSHMFA_UNIFIEDPUSH_ALLOWED_HOSTS=["ntfy.sh", ".example.net"]):
        with pytest.raises(EndpointRefused):
            check_endpoint_url(url, allow_loopback=True)
        _refused(backend_for(server), url)
        assert server.received == []
        assert check_endpoint_url("https://ntfy.sh/up").host == "ntfy.sh"
        assert check_endpoint_url("https://push.example.net/up").host == "push.example.net"
        assert check_endpoint_url("https://example.net/up").host == "example.net"
        for other in ("https://evilntfy.sh/up", "https://ntfy.sh.evil.com/up", "https://example.network/up"):
            with pytest.raises(EndpointRefused):
                check_endpoint_url(other)
    with override_settings(PUSHMFA_UNIFIEDPUSH_ALLOWED_HOSTS=["localhost"]):
        backend_for(server).send(message(url))
    assert len(server.received) == 1


def test_unsafe_testing_takes_only_its_two_keys_and_a_readable_ca():
    with pytest.raises(PushConfigurationError):
        PushBackend({"UNSAFE_TESTING": {"ALLOW_PRIVATE": True}})
    with pytest.raises(PushConfigurationError):
        PushBackend({"UNSAFE_TESTING": {"CA_FILE": "/nonexistent/ca.pem"}})


def test_system_check_warns_about_the_test_only_options(server):
    config = {"BACKEND": "django_pushmfa.push.backends.unifiedpush.PushBackend"}
    with override_settings(PUSHMFA_PUSH_BACKENDS={"unifiedpush": config}):
        assert "pushmfa.W012" not in {m.id for m in checks.run_checks()}
    testing = {**config, "OPTIONS": {"UNSAFE_TESTING": {"ALLOW_LOOPBACK": True}}}
    with override_settings(PUSHMFA_PUSH_BACKENDS={"unifiedpush": testing}):
        assert "pushmfa.W012" in {m.id for m in checks.run_checks()}


# --- through the delivery layer -----------------------------------------------------------------------
def test_a_challenge_reaches_a_unifiedpush_phone_and_skips_a_poll_only_one(
    server, user, push_device_factory, make_challenge
):
    options = {"TIMEOUT": 3, "UNSAFE_TESTING": {"ALLOW_LOOPBACK": True, "CA_FILE": server.ca_file}}
    backends = {"unifiedpush": {"BACKEND": "django_pushmfa.push.backends.unifiedpush.PushBackend", "OPTIONS": options}}
    up = push_device_factory(user, platform="unifiedpush", token=server.url("/up/phone1"))
    poll_only = push_device_factory(user, platform="none", token="")
    challenge = make_challenge(user)
    with override_settings(PUSHMFA_PUSH_BACKENDS=backends):
        assert isinstance(get_backend("unifiedpush"), PushBackend)
        results = send_challenge(challenge, [up, poll_only])
    assert [(r.device_id, r.ok) for r in results] == [(up.device_id, True)]
    [request] = server.received
    assert request.path == "/up/phone1"
    assert json.loads(request.body)["challenge_id"] == str(challenge.id)


def test_a_refused_endpoint_marks_the_device_dead(user, push_device_factory, make_challenge):
    backends = {"unifiedpush": {"BACKEND": "django_pushmfa.push.backends.unifiedpush.PushBackend"}}
    device = push_device_factory(user, platform="unifiedpush", token="https://10.1.2.3/up/phone")
    with override_settings(PUSHMFA_PUSH_BACKENDS=backends):
        [result] = send_challenge(make_challenge(user), [device])
    assert result.token_dead and result.provider_code == "endpoint_refused"
    device.refresh_from_db()
    assert device.token_dead_at is not None


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "0177.0.0.1", "127.1"])
def test_numeric_host_spellings_of_loopback_are_caught_after_resolution(server, host):
    """Not address literals to ``ipaddress``, but the resolver reads them as 127.0.0.1."""
    url = server.url(host=host)
    check_endpoint_url(url)  # passes the form check ...
    with pytest.raises(EndpointRefused):
        resolve_endpoint(url)  # ... and is refused once resolved
    _refused(backend_for(server, loopback=False), url)
    assert server.received == []
