"""The TypeScript device SDK under Node against the live example site (PostgreSQL + Redis).

A Node process (``sdk_phone.mjs``) plays the phone app on the built SDK: it pairs with a pairing URI
the site issued over HTTP, then answers logins that a browser-like HTTP client starts with a password
and completes through ``api/push/``. Every request of the phone is signed by the SDK and verified by
the server; nothing here imports the SDK's logic into Python.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from .conftest import PASSWORD, Site, db_query, events, next_totp_code

pytestmark = pytest.mark.e2e

DRIVER = Path(__file__).with_name("sdk_phone.mjs")


class NodePhone:
    """The Node phone process: one JSON command per line in, one JSON answer per line out."""

    def __init__(self, dist: Path) -> None:
        self.process = subprocess.Popen(
            ["node", str(DRIVER), str(dist / "index.js")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def __call__(self, op: str, **args: Any) -> dict[str, Any]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(f"the Node phone exited: {self.process.stderr.read() if self.process.stderr else ''}")
        return json.loads(line)

    def ok(self, op: str, **args: Any) -> dict[str, Any]:
        answer = self(op, **args)
        assert answer["ok"], answer
        return answer

    def error(self, op: str, **args: Any) -> dict[str, Any]:
        answer = self(op, **args)
        assert not answer["ok"], answer
        return answer["error"]

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


class HTTPBrowser:
    """A browser without a screen: cookies, CSRF token, the site's login form and the MFA JSON API."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.http = requests.Session()

    def _csrf(self) -> dict[str, str]:
        return {"X-CSRFToken": self.http.cookies.get("csrftoken", ""), "Referer": self.site.url + "/"}

    def password_step(self, username: str) -> None:
        page = self.http.get(self.site.url + "/accounts/login/", timeout=30)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = self.http.post(
            self.site.url + "/accounts/login/",
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": self.site.url + "/accounts/login/"},
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 302, answer.text
        methods = self.api("GET", "methods/")  # the MFA step is pending now
        assert methods.status_code == 200, methods.text

    def api(self, method: str, path: str, body: Any = None) -> requests.Response:
        return self.http.request(
            method, self.site.url + "/mfa/api/" + path, json=body, headers=self._csrf(), timeout=40
        )

    def is_logged_in(self, username: str) -> bool:
        page = self.http.get(self.site.url + "/dashboard/", allow_redirects=False, timeout=30)
        return page.status_code == 200 and f"Welcome, {username}" in page.text


@pytest.fixture
def phone(sdk_dist):
    node_phone = NodePhone(sdk_dist)
    yield node_phone
    node_phone.close()


def start_login(site: Site, username: str) -> tuple[HTTPBrowser, dict[str, Any]]:
    browser = HTTPBrowser(site)
    browser.password_step(username)
    started = browser.api("POST", "push/", {})
    assert started.status_code == 201, started.text
    return browser, started.json()


def poll(browser: HTTPBrowser, challenge: dict[str, Any]) -> dict[str, Any]:
    answer = browser.http.get(browser.site.url + challenge["poll_url"] + "?wait=10", timeout=40)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_sdk_pairs_a_phone_and_completes_logins_on_the_live_site(site, phone):
    username = "sdk_user"
    account = site.accounts[username]

    # A signed-in user (password + TOTP) asks for a pairing token, as the account page does.
    owner = HTTPBrowser(site)
    owner.password_step(username)
    verified = owner.api("POST", "totp/verify/", {"code": next_totp_code(account["totp_secret"])})
    assert verified.status_code == 200 and verified.json()["status"] == "approved", verified.text
    issued = owner.api("POST", "devices/pairing/", {})
    assert issued.status_code == 201, issued.text
    uri = issued.json()["pairing_uri"]
    assert phone.ok("parse_uri", uri=uri)["info"]["server"] == site.url + "/mfa/api/"

    paired = phone.ok("pair", name="node", uri=uri, platform="fcm", pushToken="node-sdk-fcm-token")
    assert paired["private_key_extractable"] is False
    device_id = paired["device_id"]
    assert db_query(
        "SELECT platform, key_type, name FROM pushmfa_pushdevice WHERE credential_id = %s", (device_id,)
    ) == [("fcm", "p256", "node")]
    # The pairing token worked once.
    again = phone.error("pair", name="node-again", uri=uri, platform="fcm", pushToken="other-token")
    assert (again["name"], again["code"]) == ("InvalidPairingTokenError", "invalid_pairing_token")
    assert again["status"] == 400

    # 1. A login approved with the right number.
    browser, challenge = start_login(site, username)
    listed = phone.ok("list", name="node")["challenges"]
    assert [c["challenge_id"] for c in listed] == [challenge["challenge_id"]]
    shown = phone.ok("get", name="node", id=challenge["challenge_id"])["challenge"]
    assert challenge["display_number"] in shown["choices"]
    assert set(shown["context"]) >= {"location", "ip", "browser", "os", "requested_at"}
    # Who is asking: the example site's name and the service its adapter names.
    assert (shown["context"]["site_name"], shown["context"]["purpose"], shown["context"]["service"]) == (
        "Acme Workspace",
        "login",
        "Workspace",
    )
    result = phone.ok("respond", name="node", id=challenge["challenge_id"], decision="approve",
                      number=challenge["display_number"])
    assert result["result"] == {"status": "approved"}
    assert poll(browser, challenge)["status"] == "approved"
    assert browser.is_logged_in(username)
    # Exactly one response changes a challenge.
    late = phone.error("respond", name="node", id=challenge["challenge_id"], decision="deny")
    assert (late["name"], late["code"], late["status"]) == ("ChallengeResolvedError", "challenge_resolved", 409)

    # 2. A wrong number denies the login for good.
    browser, challenge = start_login(site, username)
    shown = phone.ok("get", name="node", id=challenge["challenge_id"])["challenge"]
    wrong = next(n for n in shown["choices"] if n != challenge["display_number"])
    error = phone.error("respond", name="node", id=challenge["challenge_id"], decision="approve", number=wrong)
    assert (error["name"], error["code"], error["status"]) == ("WrongNumberError", "wrong_number", 409)
    assert poll(browser, challenge)["status"] == "denied"
    assert not browser.is_logged_in(username)

    # 3. "No" from the phone.
    browser, challenge = start_login(site, username)
    assert phone.ok("respond", name="node", id=challenge["challenge_id"], decision="deny")["result"] == {
        "status": "denied"
    }
    assert poll(browser, challenge)["status"] == "denied"

    # Unknown ids are 404 not_found, typed.
    missing = phone.error("get", name="node", id="00000000-0000-4000-8000-000000000000")
    assert (missing["name"], missing["code"], missing["status"]) == ("NotFoundError", "not_found", 404)

    # The provider rotated the token; then the app unregisters and its key stops working.
    phone.ok("rotate", name="node", pushToken="node-sdk-fcm-token-2")
    assert db_query("SELECT push_token FROM pushmfa_pushdevice WHERE credential_id = %s", (device_id,)) == [
        ("node-sdk-fcm-token-2",)
    ]
    phone.ok("unregister", name="node", keepDeviceId=True)
    assert db_query("SELECT revoked_at IS NOT NULL FROM pushmfa_mfacredential WHERE id = %s", (device_id,)) == [
        (True,)
    ]
    gone = phone.error("list", name="node")  # signed with the removed device's key
    assert (gone["name"], gone["code"], gone["status"]) == ("AuthenticationError", "invalid_signature", 401)
    kinds = {kind for (kind,) in db_query(
        "SELECT e.kind FROM pushmfa_securityevent e JOIN auth_user u ON u.id = e.user_id WHERE u.username = %s",
        (username,),
    )}
    assert {"device_registered", "push_approved", "push_denied", "push_token_rotated"} <= kinds
    assert events(username, "push_mfa_wrong_number")


def test_a_poll_only_ed25519_phone_answers_by_polling(site, phone):
    """Platform "none": no push token, no push; the phone finds the login by listing its challenges."""
    username = "sdk_poll_user"
    owner = HTTPBrowser(site)
    owner.password_step(username)
    code = next_totp_code(site.accounts[username]["totp_secret"])
    assert owner.api("POST", "totp/verify/", {"code": code}).json()["status"] == "approved"
    uri = owner.api("POST", "devices/pairing/", {}).json()["pairing_uri"]
    device_id = phone.ok("pair", name="poller", uri=uri, platform="none", algorithm="ed25519")["device_id"]
    assert db_query(
        "SELECT platform, push_token, key_type FROM pushmfa_pushdevice WHERE credential_id = %s", (device_id,)
    ) == [("none", "", "ed25519")]

    browser, challenge = start_login(site, username)
    [listed] = phone.ok("list", name="poller")["challenges"]
    assert listed["challenge_id"] == challenge["challenge_id"]
    result = phone.ok("respond", name="poller", id=listed["challenge_id"], decision="approve",
                      number=challenge["display_number"])
    assert result["result"] == {"status": "approved"}
    assert poll(browser, challenge)["status"] == "approved"
    assert browser.is_logged_in(username)
