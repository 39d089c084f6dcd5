"""An HTTP OPTIONS request to the MFA step page is answered (Django's View.options), not a 500: the view's
list of methods once shadowed View.options (found by mypy)."""
import pyotp
import pytest

from django_pushmfa import services
from django_pushmfa.adapter import get_adapter
from django_pushmfa.models import TOTPDevice
from tests.fallbacks.conftest import JSONClient


@pytest.mark.django_db
def test_options_request_on_the_mfa_step(user, password):
    credential = services.add_credential(user, "totp", label="App")
    secret = get_adapter().encrypt_secret(pyotp.random_base32())
    TOTPDevice.objects.create(credential=credential, encrypted_secret=secret)
    client = JSONClient(raise_request_exception=False)
    client.post("/accounts/login/", {"username": user.get_username(), "password": password})
    response = client.options("/mfa/authenticate/")
    assert response.status_code == 200 and "GET" in response["Allow"]
    assert client.get("/mfa/authenticate/").status_code == 200  # still pending: the page renders its methods
