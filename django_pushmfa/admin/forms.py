"""Forms of the admin's intermediate pages."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ReasonForm(forms.Form):
    """The reason a staff member gives for revoking or resetting; it goes into the SecurityEvent."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        strip=True,
        widget=forms.TextInput(attrs={"size": 60, "autofocus": True}),
        help_text=_("Recorded in the security log, e.g. “lost phone, identity checked by ticket #1234”."),
    )
