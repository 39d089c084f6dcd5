"""The admin dashboard: figures from aggregate queries (a fixed count), SVG charts, links to events."""
from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from django_pushmfa.admin.dashboard_data import DAILY_KINDS, collect
from django_pushmfa.models import SecurityEvent

pytestmark = pytest.mark.django_db

DASHBOARD = "admin:pushmfa_securityevent_dashboard"
Kind = SecurityEvent.Kind
# daily series, adoption by method, users with MFA, all users, suspended, top IPs, top accounts
COLLECT_QUERIES = 7


def _events(user, kind, count, *, ip="203.0.113.7", days_ago=0):
    when = timezone.now() - timedelta(days=days_ago)
    SecurityEvent.objects.bulk_create(
        SecurityEvent(user=user, kind=kind, ip=ip, created_at=when, detail={}) for _ in range(count)
    )


def test_collect_counts_per_day_and_ranks_failures(enrolled, other_enrolled, staff, django_assert_num_queries):
    bob, carol = enrolled.user, other_enrolled.user
    _events(bob, Kind.PUSH_APPROVED, 4)
    _events(bob, Kind.PUSH_DENIED, 2, days_ago=1)
    _events(bob, Kind.WRONG_NUMBER, 3, ip="198.51.100.9")
    _events(carol, Kind.PUSH_REPORTED, 1)
    _events(carol, Kind.RATE_LIMITED, 5, ip="198.51.100.9")
    _events(carol, Kind.PUSH_DENIED, 7, days_ago=40)  # outside both windows

    with django_assert_num_queries(COLLECT_QUERIES):
        board = collect(days=30, failure_days=7)

    assert len(board.days) == 30 and board.days[-1] == timezone.localdate()
    assert board.daily[Kind.PUSH_APPROVED][-1] == 4
    assert board.daily[Kind.PUSH_DENIED][-2] == 2 and board.totals[Kind.PUSH_DENIED] == 2
    assert board.totals == {Kind.PUSH_APPROVED: 4, Kind.PUSH_DENIED: 2, Kind.WRONG_NUMBER: 3,
                            Kind.PUSH_REPORTED: 1, Kind.RATE_LIMITED: 5}
    # 198.51.100.9: 3 wrong numbers + 5 rate-limit hits; 203.0.113.7: 2 denials + 1 report
    assert [(r.label, r.count) for r in board.top_ips] == [("198.51.100.9", 8), ("203.0.113.7", 3)]
    assert [(r.label, r.count) for r in board.top_users] == [("carol", 6), ("bob", 5)]
    assert board.users_with_mfa == 2 and board.users_total == 3  # bob, carol; the staff user has none
    assert board.adoption == {"push": 2, "totp": 2, "webauthn": 2, "backup_codes": 2}


def test_query_count_does_not_grow_with_the_log(enrolled, other_enrolled, django_assert_num_queries):
    for days_ago in range(30):
        for kind in DAILY_KINDS:
            _events(enrolled.user, kind, 2, days_ago=days_ago, ip=f"192.0.2.{days_ago}")
    with django_assert_num_queries(COLLECT_QUERIES):
        board = collect(days=30, failure_days=30)
    assert all(series == [2] * 30 for series in board.daily.values())
    assert len(board.top_ips) == 10  # capped


def _suspend_by_report(user, password, login_with_password=None):
    """A real suspension: pair a phone, log in with the password, start a push, report it."""
    from django_pushmfa.internal.pairing import create_pairing_token
    from django_pushmfa.testing.phone import DjangoClientTransport, PhoneClient, PhoneKey

    phone = PhoneClient(DjangoClientTransport(Client()), PhoneKey.generate("p256"))
    token = create_pairing_token(user, RequestFactory().get("/")).token
    phone.register(token, platform="fcm", push_token=f"tok-{secrets.token_hex(8)}", name="Pixel")
    browser = Client()
    browser.post("/accounts/login/", {"username": user.get_username(), "password": password})
    browser.get(reverse("pushmfa:authenticate"))
    started = browser.post(
        reverse("pushmfa:api-push-start"), {}, content_type="application/json",
        HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value, HTTP_ACCEPT="application/json",
    )
    assert started.status_code == 201, started.content
    phone.respond(started.json()["challenge_id"], "report")


def test_suspended_users_come_from_the_store(user_factory, password, staff_client):
    dave = user_factory("dave")
    _suspend_by_report(dave, password)
    assert SecurityEvent.objects.filter(user=dave, kind=Kind.PUSH_SUSPENDED).exists()
    board = collect()
    assert [(s.label, s.seconds_left > 0) for s in board.suspended] == [("dave", True)]
    page = staff_client.get(reverse(DASHBOARD)).content.decode()
    assert "dave" in page.split("data-pushmfa-suspended", 1)[1].split("</section>", 1)[0]

    from django_pushmfa.push.store import get_store

    get_store().lift_suspension(str(dave.pk))  # a reset lifts it: the dashboard follows the store
    assert collect().suspended == []


def test_page_draws_svg_and_links_to_the_events(staff_client, enrolled):
    _events(enrolled.user, Kind.WRONG_NUMBER, 3, ip="198.51.100.9")
    response = staff_client.get(reverse(DASHBOARD))
    assert response.status_code == 200
    html = response.content.decode()
    board = html.split("data-pushmfa-dashboard", 1)[1].split("All security events", 1)[0]
    assert board.count("<svg") == 2 and "<script" not in board  # drawn on the server, no JavaScript
    changelist = reverse("admin:pushmfa_securityevent_changelist")
    today = timezone.localdate()
    day_link = (f'{changelist}?kind__exact=push_mfa_wrong_number&amp;created_at__year={today.year}'
                f'&amp;created_at__month={today.month}&amp;created_at__day={today.day}')
    assert day_link in html
    ip_link = re.search(r'href="([^"]*ip=198\.51\.100\.9[^"]*)"', html).group(1).replace("&amp;", "&")
    listed = staff_client.get(ip_link)
    assert listed.status_code == 200
    assert [e.kind for e in listed.context["cl"].result_list] == ["push_mfa_wrong_number"] * 3
    bar = staff_client.get(day_link.replace("&amp;", "&"))
    assert len(bar.context["cl"].result_list) == 3
    # the event list links to the dashboard
    assert reverse(DASHBOARD) in staff_client.get(changelist).content.decode()


def test_names_are_escaped_in_the_charts_and_tables(user_factory, staff_client):
    mallory = user_factory('<img src=x onerror="alert(1)">')
    _events(mallory, Kind.PUSH_DENIED, 2)
    html = staff_client.get(reverse(DASHBOARD)).content.decode()
    assert "<img src=x" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_needs_the_view_permission_on_events(support_factory, client, enrolled):
    outsider = support_factory("helper")
    client.force_login(outsider)
    assert client.get(reverse(DASHBOARD)).status_code == 403
    reader = support_factory("reader", "pushmfa.view_securityevent")
    client.force_login(reader)
    assert client.get(reverse(DASHBOARD)).status_code == 200
    client.logout()
    assert client.get(reverse(DASHBOARD)).status_code == 302  # to the admin login
    assert User.objects.filter(username="reader").exists()
