"""``manage.py pushmfa_demo``: the demo accounts, made idempotently (run it as often as you like).

- ``demo``: a user with a paired *simulated* phone (push, the primary method), an authenticator
  app (TOTP) and a fresh set of backup codes; everything that was revoked (e.g. by an admin's
  "Reset MFA") is enrolled again, what is still active is kept.
- ``admin``: a staff superuser without MFA, for the admin screens.

Both get a new random password on every run unless ``--password`` / ``--admin-password`` is given;
the passwords, the TOTP secret and the backup codes are printed once. Development only.
"""
from __future__ import annotations

import json
import logging
import secrets
import time
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test import Client, RequestFactory, override_settings

from django_pushmfa.adapter import get_adapter
from django_pushmfa.backup_codes.internal import flows as backup_flows
from django_pushmfa.internal.pairing import create_pairing_token
from django_pushmfa.models import MFACredential
from django_pushmfa.testing.phone import DjangoClientTransport
from django_pushmfa.totp.internal import auth as totp_auth
from django_pushmfa.totp.internal import flows as totp_flows

from ...models import SimulatedPhone
from ...simulator import phones

DEMO_USERNAME = "demo"
ADMIN_USERNAME = "admin"
PHONE_NAME = "{username}'s Pixel (simulated)"  # one per demo user: the simulator lists them apart


def random_password() -> str:
    """Readable but strong: four groups of four from an unambiguous alphabet (~80 bits)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


class Command(BaseCommand):
    help = "Create or refresh the demo user (simulated phone, TOTP, backup codes) and a staff user."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--password", help="Password for the demo user(s) (default: a new random one).")
        parser.add_argument("--admin-password", help="Password for the admin user (default: a new random one).")
        parser.add_argument("--host", default="localhost:8000", help="Host:port the site will be served on.")
        parser.add_argument(
            "--username",
            action="append",
            dest="usernames",
            help=f"Demo user to create or refresh (repeatable; default: {DEMO_USERNAME}).",
        )
        parser.add_argument("--json", action="store_true", help="Print the accounts as JSON (for scripts and tests).")

    def handle(self, *args: Any, **options: Any) -> None:
        # The alert emails and event log lines of the set-up itself are noise on the demo's console.
        logger = logging.getLogger("django_pushmfa")
        level = logger.level
        logger.setLevel(logging.WARNING)
        try:
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
                self._handle(**options)
        finally:
            logger.setLevel(level)

    def _handle(self, **options: Any) -> None:
        host = options["host"]
        factory = RequestFactory(SERVER_NAME=host.split(":")[0], SERVER_PORT=host.partition(":")[2] or "80")
        user_model = get_user_model()
        admin_password = options["admin_password"] or random_password()
        self._user(user_model, ADMIN_USERNAME, admin_password, staff=True)
        accounts = []
        for username in options["usernames"] or [DEMO_USERNAME]:
            password = options["password"] or random_password()
            user = self._user(user_model, username, password, staff=False)
            phone = self._phone(user, factory, host)
            totp_secret, otpauth_uri = self._totp(user, factory)
            _credential, codes = backup_flows.generate_set(None, user)
            accounts.append(
                {
                    "username": username,
                    "password": password,
                    "phone_id": phone.pk,
                    "phone_name": phone.name,
                    "device_id": phone.device_id,
                    "totp_secret": totp_secret,
                    "otpauth_uri": otpauth_uri,
                    "backup_codes": codes,
                }
            )
        if options["json"]:
            admin = {"username": ADMIN_USERNAME, "password": admin_password}
            self.stdout.write(json.dumps({"users": accounts, "admin": admin}))
            return
        self._print(host, accounts, admin_password)

    def _print(self, host: str, accounts: list[dict[str, Any]], admin_password: str) -> None:
        base = f"http://{host}"
        out = self.stdout.write
        out("")
        out(self.style.SUCCESS("django-pushmfa demo is ready"))
        out("")
        out(f"  Site             {base}/")
        out(f"  Phone simulator  {base}/simulator/   (open it beside the sign-in page)")
        out(f"  Admin            {base}/admin/")
        out(f"  Staff user       {ADMIN_USERNAME} / {admin_password}")
        for account in accounts:
            codes = account["backup_codes"]
            out("")
            out(f"  Demo user        {account['username']} / {account['password']}")
            out(f"  Push             paired with “{account['phone_name']}” — pick the number in the simulator")
            out(f"  TOTP secret      {account['totp_secret']}   (current code: manage.py pushmfa_demo_code"
                f"{'' if account['username'] == DEMO_USERNAME else ' ' + account['username']})")
            out(f"  otpauth URI      {account['otpauth_uri']}")
            out(f"  Backup codes     {'  '.join(codes[:5])}")
            out(f"                   {'  '.join(codes[5:])}")
        out("")
        out("  Use http://localhost (not 127.0.0.1) to add a security key: browsers refuse IP addresses for them.")
        out("")

    # --- parts ---------------------------------------------------------------------------------------
    def _user(self, user_model: Any, username: str, password: str, *, staff: bool) -> Any:
        user, _created = user_model._default_manager.get_or_create(
            **{user_model.USERNAME_FIELD: username},
            defaults={"email": f"{username}@acme.example"},
        )
        user.set_password(password)
        user.is_active = True
        if staff:
            user.is_staff = user.is_superuser = True
        user.save()
        return user

    def _phone(self, user: Any, factory: RequestFactory, host: str) -> SimulatedPhone:
        """Keep the demo user's working simulated phone, else pair a new one through the device API."""
        for phone in SimulatedPhone.objects.filter(user=user):
            if phones.status(phone) == "active":
                return phone
        issued = create_pairing_token(user, request=factory.get("/"))
        # The server is not running yet: register in-process, through the real registration endpoint.
        transport = DjangoClientTransport(Client(SERVER_NAME=host.split(":")[0]))
        try:
            name = PHONE_NAME.format(username=user.get_username())
            return phones.pair(issued.pairing_uri, name, transport=transport)
        except Exception as exc:  # the device API refused: say why instead of a traceback
            raise CommandError(f"Pairing the simulated phone failed: {exc}") from exc

    def _totp(self, user: Any, factory: RequestFactory) -> tuple[str, str]:
        """The demo user's TOTP secret and URI: the active one, or a new enrollment."""
        existing = (
            MFACredential.objects.active()
            .for_user(user)
            .filter(method=MFACredential.Method.TOTP)
            .select_related("totp_device")
            .first()
        )
        request = factory.get("/")
        if existing is not None:
            # Development only: the demo prints its own seed again so the command can be re-run.
            secret = get_adapter().decrypt_secret(existing.totp_device.encrypted_secret)
            return secret, totp_auth.provisioning_uri(secret, user.get_username(), totp_flows.issuer(request))
        request.session = import_module(settings.SESSION_ENGINE).SessionStore()
        request.user = user
        setup = totp_flows.begin_setup(request, user)
        # The previous step's code (the default window accepts it): the code the app shows now logs in.
        code = totp_auth.make_totp(setup.secret).at(time.time() - totp_auth.make_totp(setup.secret).interval)
        with transaction.atomic():
            totp_flows.confirm_setup(request, user, code, label="Authenticator app")
        return setup.secret, setup.otpauth_uri
