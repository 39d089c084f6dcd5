"""An approved push is never lost to a failed login: when the login step raises (a locked SQLite
file, a PostgreSQL failover), the approval is given back and the browser's next poll logs the user
in — once. The database error is injected into the login's transaction, after ``login()`` has
written the new session, so everything the login wrote must roll back for the retry to work."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import OperationalError, connection
from django.urls import reverse

from django_pushmfa.internal import pending
from django_pushmfa.models import SecurityEvent

from .conftest import HTML, poll
from .test_push_flow import browser, phone, start  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@contextmanager
def locked_once():
    """The login step's event INSERT fails once, as SQLite's does under a concurrent writer."""
    failed = []

    def wrapper(execute, sql, params, many, context):
        if not failed and sql.lstrip().upper().startswith("INSERT") and "pushmfa_securityevent" in sql:
            failed.append(sql)
            raise OperationalError("database is locked")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield
    assert failed, "the login step never reached its event"


def completed(user):
    return SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.MFA_COMPLETED).count()


def approve(browser, phone):  # noqa: F811
    body = start(browser).json()
    phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    browser.raise_request_exception = False
    return body


@pytest.mark.parametrize("wait", [None, 3])
def test_a_failed_login_step_is_retried_by_the_next_poll(browser, phone, user, wait):  # noqa: F811
    body = approve(browser, phone)
    with locked_once():
        failed = poll(browser, body["poll_url"], wait=wait)
    assert failed.status_code == 500
    assert completed(user) == 0
    assert pending.PENDING_KEY in browser.session and SESSION_KEY not in browser.session

    retried = poll(browser, body["poll_url"], wait=wait)
    assert retried.status_code == 200
    assert retried.json() == {"status": "approved", "redirect_url": "/private/"}
    assert browser.session[SESSION_KEY] == str(user.pk)
    assert completed(user) == 1
    # Consumed for good now: no second login.
    assert poll(browser, body["poll_url"]).json() == {"status": "consumed"}
    assert completed(user) == 1


def test_the_async_poll_retries_too(browser, phone, user):  # noqa: F811
    body = approve(browser, phone)
    url = reverse("pushmfa:api-push-poll-async", args=[body["challenge_id"]])
    with locked_once():
        assert poll(browser, url).status_code == 500
    assert completed(user) == 0
    assert poll(browser, url).json() == {"status": "approved", "redirect_url": "/private/"}
    assert poll(browser, url).json() == {"status": "consumed"}
    assert completed(user) == 1


def test_the_page_without_javascript_retries_too(browser, phone, user):  # noqa: F811
    body = approve(browser, phone)
    page = f"{reverse('pushmfa:authenticate')}?challenge={body['challenge_id']}"
    with locked_once():
        assert browser.get(page, **HTML).status_code == 500
    assert completed(user) == 0
    response = browser.get(page, **HTML)
    assert response.status_code == 302 and response["Location"] == "/private/"
    assert browser.session[SESSION_KEY] == str(user.pk)
    assert completed(user) == 1


# --- issue 19: the long poll of a page that is gone never takes the approval --------------------------
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("url_name", ["pushmfa:api-push-poll", "pushmfa:api-push-poll-async"])
def test_only_the_newest_waiting_poll_claims_the_approval(browser, phone, user, url_name):  # noqa: F811
    """A reload (or a second tab) leaves the first page's long poll waiting on the server with nobody
    to read its answer. Were it to claim the approval, the login — and its new session cookie —
    would go to nobody, and the reloaded page would find the session gone. The older poll answers
    "pending"; the newest one signs the browser in."""
    import threading
    import time

    from django.test import Client

    from django_pushmfa.push.store import get_store

    body = start(browser).json()
    url = reverse(url_name, args=[body["challenge_id"]])
    answers: dict[str, object] = {}

    def wait_in(name, client):
        answers[name] = poll(client, url, wait=10)

    def registered(count):
        deadline = time.monotonic() + 10
        while get_store().hits(f"poller:{body['challenge_id']}") < count:
            assert time.monotonic() < deadline, "the poll never started waiting"
            time.sleep(0.02)

    orphan = Client()  # the first page: the same session, a response nobody will read
    orphan.cookies = browser.cookies
    first = threading.Thread(target=wait_in, args=("orphan", orphan))
    first.start()
    registered(1)
    second = threading.Thread(target=wait_in, args=("reloaded", browser))
    second.start()
    registered(2)
    phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    first.join(15)
    second.join(15)
    # "pending", or "consumed" when it read the challenge after the newest poll had signed in.
    assert answers["orphan"].json() in ({"status": "pending"}, {"status": "consumed"})
    assert answers["reloaded"].json() == {"status": "approved", "redirect_url": "/private/"}
    assert browser.session[SESSION_KEY] == str(user.pk)
    assert completed(user) == 1


@pytest.mark.django_db(transaction=True)
def test_a_page_that_goes_away_turns_its_waiting_poll_away(browser, phone, user):  # noqa: F811
    """pushmfa.js's pagehide beacon (the MFA page's ``action=leave``): a closed second tab's long poll,
    the newest one, must not claim either; the page still open signs in."""
    import threading
    import time

    from django.test import Client

    from django_pushmfa.push.store import get_store

    body = start(browser).json()
    url = reverse("pushmfa:api-push-poll", args=[body["challenge_id"]])
    key = f"poller:{body['challenge_id']}"
    closed_tab = Client()
    closed_tab.cookies = browser.cookies
    answers = {}
    waiting = threading.Thread(target=lambda: answers.setdefault("closed", poll(closed_tab, url, wait=10)))
    waiting.start()
    deadline = time.monotonic() + 10
    while get_store().hits(key) < 1:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    token = browser.cookies["csrftoken"].value
    page = reverse("pushmfa:authenticate")
    left = browser.post(page, {"action": "leave", "challenge": body["challenge_id"], "csrfmiddlewaretoken": token})
    assert left.status_code == 204 and get_store().hits(key) == 2
    # Another browser's beacon, or a made-up id, changes nothing.
    assert Client().post(page, {"action": "leave", "challenge": body["challenge_id"]}).status_code in (302, 403)
    made_up = {"action": "leave", "challenge": "nope", "csrfmiddlewaretoken": token}
    assert browser.post(page, made_up).status_code == 204
    assert get_store().hits(key) == 2
    phone.respond(body["challenge_id"], "approve", selected_number=body["display_number"])
    waiting.join(15)
    assert answers["closed"].json() == {"status": "pending"}
    assert completed(user) == 0
    assert poll(browser, url).json() == {"status": "approved", "redirect_url": "/private/"}
    assert completed(user) == 1
