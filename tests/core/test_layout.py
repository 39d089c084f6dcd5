"""The pages extend the site's base template (PUSHMFA_BASE_TEMPLATE) and carry the site's name."""
from __future__ import annotations

import pytest
from django.core import checks
from django.urls import reverse

from django_pushmfa.checks import check_base_template

pytestmark = pytest.mark.django_db


def test_default_is_the_packages_own_page(client, user):
    client.force_login(user)
    html = client.get(reverse("pushmfa:totp-setup")).content.decode()
    assert 'class="pushmfa pushmfa-standalone' in html and "pushmfa-page--embedded" not in html


def test_pages_render_inside_the_sites_base(client, user, settings):
    settings.PUSHMFA_BASE_TEMPLATE = "testapp/site_base.html"
    settings.PUSHMFA_SITE_NAME = "Globex Portal"
    client.force_login(user)
    for name in ("pushmfa:account", "pushmfa:totp-setup", "pushmfa:webauthn-register", "pushmfa:backup-codes"):
        html = client.get(reverse(name)).content.decode()
        assert '<nav data-site-nav>' in html, name  # the site's header and navigation
        assert "pushmfa-page--embedded" in html and "pushmfa/pushmfa.css" in html, name  # our stylesheet comes along
        title = html.split("<title>", 1)[1].split("</title>", 1)[0]
        assert title.endswith("· Globex Portal") and "testserver" not in title, (name, title)


def test_account_page_has_a_way_back(client, user, settings):
    settings.LOGIN_REDIRECT_URL = "/home/"
    settings.PUSHMFA_SITE_NAME = "Globex Portal"
    client.force_login(user)
    html = client.get(reverse("pushmfa:account")).content.decode()
    assert '<a href="/home/" data-pushmfa-back>← Back to Globex Portal</a>' in html


def test_check_refuses_a_missing_base_template(settings):
    assert check_base_template() == []
    settings.PUSHMFA_BASE_TEMPLATE = "no/such/base.html"
    errors = check_base_template()
    assert [e.id for e in errors] == ["pushmfa.E030"] and errors[0].level == checks.ERROR
