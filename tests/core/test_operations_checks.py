"""The checks and settings an operator meets first: credential files are a deploy check (migrate in a
build step without secrets works; ``check --deploy`` fails), django.contrib.messages is required
(pushmfa.E016), and PUSHMFA_SITE_NAME names the site in alert e-mails."""
import pytest
from django.core import mail
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import RequestFactory

from django_pushmfa.adapter import get_adapter
from django_pushmfa.checks import check_messages

APNS_WITHOUT_ITS_KEY = {
    "BACKEND": "django_pushmfa.push.backends.apns.PushBackend",
    "OPTIONS": {"KEY": "/run/secrets/absent/AuthKey.p8", "KEY_ID": "K", "TEAM_ID": "T", "TOPIC": "com.example"},
}


def _ids(messages) -> list[str]:
    return [message.id for message in messages]


@pytest.mark.django_db
def test_a_missing_credential_file_fails_check_deploy_but_not_migrate(settings):
    settings.PUSHMFA_PUSH_BACKENDS = {"apns": APNS_WITHOUT_ITS_KEY}
    assert "pushmfa.E001" not in _ids(run_checks())  # what migrate, collectstatic and runserver run
    call_command("migrate", verbosity=0)
    call_command("check", verbosity=0)

    deploy = [m for m in run_checks(include_deployment_checks=True) if m.id == "pushmfa.E001"]
    assert len(deploy) == 1 and "cannot read OPTIONS['KEY'] as a file" in deploy[0].msg
    with pytest.raises(SystemCheckError, match="pushmfa.E001"):
        call_command("check", deploy=True, verbosity=0)


def test_a_missing_provider_library_still_fails_the_plain_check(settings, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "aioapns", None)
    settings.PUSHMFA_PUSH_BACKENDS = {"apns": APNS_WITHOUT_ITS_KEY}
    errors = [m for m in run_checks() if m.id == "pushmfa.E001"]
    assert len(errors) == 1 and "aioapns" in errors[0].msg


def test_message_middleware_is_required(settings):
    assert check_messages() == []
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith("MessageMiddleware")]
    assert _ids(check_messages()) == ["pushmfa.E016"]
    assert "pushmfa.E016" in _ids(run_checks())


def test_messages_app_is_required(settings):
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "django.contrib.messages"]
    assert _ids(check_messages()) == ["pushmfa.E016"]


def test_site_name_setting(settings):
    request = RequestFactory().get("/", HTTP_HOST="login.example.org")
    assert get_adapter().get_site_name(request) == "login.example.org"
    assert get_adapter().get_site_name() == "Django"
    settings.PUSHMFA_SITE_NAME = "Example Bank"
    assert get_adapter().get_site_name(request) == "Example Bank"
    assert get_adapter().get_site_name() == "Example Bank"


@pytest.mark.django_db
def test_alert_emails_name_the_site(settings, user_factory):
    settings.PUSHMFA_SITE_NAME = "Example Bank"
    user = user_factory(email="ada@example.org")
    assert get_adapter().send_alert(user, "credential_added", {"credential": _Credential()})
    assert "Example Bank" in mail.outbox[-1].subject and "Django" not in mail.outbox[-1].subject


class _Credential:
    label = "Phone"

    @staticmethod
    def get_method_display() -> str:
        return "Push"
