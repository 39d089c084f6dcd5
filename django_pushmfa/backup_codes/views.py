"""Backup-codes page (``pushmfa:backup-codes``): how many unused codes remain, and a new set, shown once.

Works for any logged-in user, with or without a phone paired: no push is needed to enroll.
"""
from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from ..app_settings import app_settings
from ..models import MFACredential
from ..views.layout import render_page
from .internal import auth, flows


@method_decorator(never_cache, name="dispatch")
class BackupCodesPageView(LoginRequiredMixin, View):
    template_name = "pushmfa/backup_codes/index.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render(request, codes=None)

    def post(self, request: HttpRequest) -> HttpResponse:
        _credential, codes = flows.generate_set(request, request.user)
        return self.render(request, codes=codes)

    def render(self, request: HttpRequest, codes: list[str] | None) -> HttpResponse:
        has_set = MFACredential.objects.active().for_user(request.user).filter(method="backup_codes").exists()
        remaining = auth.remaining(request.user)
        context = {
            "codes": codes,  # only in the response to the POST that made them
            "has_set": has_set,
            "remaining": remaining,
            "warn": has_set and remaining <= int(app_settings.BACKUP_CODE_WARN_REMAINING),
            "count": int(app_settings.BACKUP_CODE_COUNT),
        }
        return render_page(request, self.template_name, context)
