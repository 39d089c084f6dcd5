"""Development-only state of the phone simulator: the simulated phones and their private keys.

A real phone keeps its private key in the Secure Enclave / Android Keystore and the server only
ever sees the public key. The simulator plays the phone inside the example site, so it has to keep
the key somewhere: here, in plain text. This model exists only in the example project — never
install it on a real site.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class SimulatedPhone(models.Model):
    name = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    device_id = models.CharField(max_length=64, unique=True)  # the server's PushDevice / credential id
    platform = models.CharField(max_length=10, default="fcm")
    push_token = models.CharField(max_length=200, unique=True)  # the simulator's "FCM token"
    private_key_pem = models.TextField()  # development only, see the module docstring
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    def key(self) -> Any:
        """The phone's :class:`~django_pushmfa.testing.phone.PhoneKey`."""
        from django_pushmfa.testing.phone import PhoneKey

        return PhoneKey.from_pem(self.private_key_pem)

    @property
    def credential(self) -> Any:
        """The server's credential for this phone (None when gone)."""
        from django_pushmfa.models import MFACredential

        return MFACredential.objects.filter(pk=self.device_id).select_related("push_device").first()
