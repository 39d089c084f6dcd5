from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class TOTPConfirmForm(forms.Form):
    """The code that proves the authenticator app was set up; checked by ``flows.confirm_setup``."""

    code = forms.CharField(label=_("Code from the app"), max_length=32)
    label = forms.CharField(label=_("Name (optional)"), max_length=100, required=False)
