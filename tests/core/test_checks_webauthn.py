from django.test import override_settings

from django_pushmfa.checks import check_webauthn_relying_party


def test_warns_without_relying_party_outside_debug():
    with override_settings(DEBUG=False, PUSHMFA_WEBAUTHN_RP_ID=None, PUSHMFA_WEBAUTHN_ORIGINS=None):
        assert [m.id for m in check_webauthn_relying_party()] == ["pushmfa.W002"]


def test_quiet_when_configured_or_debug():
    with override_settings(DEBUG=False, PUSHMFA_WEBAUTHN_RP_ID="example.com",
                           PUSHMFA_WEBAUTHN_ORIGINS=["https://example.com"]):
        assert check_webauthn_relying_party() == []
    with override_settings(DEBUG=True, PUSHMFA_WEBAUTHN_RP_ID=None):
        assert check_webauthn_relying_party() == []
