"""The translation catalogues: in step with the source (every msgid the source marks is in each
language's django.po, none is left over), complete (every entry translated, none fuzzy), compiled (.mo
newer than or as new as its .po content), and used: the push title in the phone owner's language."""
import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import translation

import django_pushmfa
from tests.paths import IMPORT_ROOT, REPO

LOCALE = REPO / "django_pushmfa" / "locale"
LANGUAGES = ("de", "fr", "es")
ENTRY = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$')


def parse_po(text: str) -> dict[tuple[str, str], dict]:
    """{(msgctxt, msgid): {"plural": ..., "msgstr": [...], "fuzzy": bool}} of a .po file's entries."""
    entries: dict[tuple[str, str], dict] = {}
    current: dict = {}
    field = None

    def flush() -> None:
        if "msgid" in current and current["msgid"]:
            entries[(current.get("msgctxt", ""), current["msgid"])] = {
                "plural": current.get("msgid_plural", ""),
                "msgstr": [v for k, v in current.items() if k.startswith("msgstr")],
                "fuzzy": current.get("fuzzy", False),
            }

    for line in text.splitlines() + [""]:
        if not line.strip():
            flush()
            current, field = {}, None
        elif line.startswith("#,") and "fuzzy" in line:
            current["fuzzy"] = True
        elif line.startswith("#"):
            continue
        elif match := ENTRY.match(line):
            field = match[1]
            current[field] = match[2]
        elif line.startswith('"') and field:
            current[field] += line[1:-1]
    return entries


@pytest.fixture(scope="module")
def source_catalogue(tmp_path_factory) -> dict:
    """The catalogue makemessages builds from the source now (as scripts/update_locale runs it)."""
    if shutil.which("xgettext") is None:
        pytest.fail("xgettext (GNU gettext) is needed to check the catalogue: apt-get install gettext")
    copy = tmp_path_factory.mktemp("locale-check") / "django_pushmfa"
    shutil.copytree(REPO / "django_pushmfa", copy, ignore=shutil.ignore_patterns("locale", "__pycache__"))
    (copy / "locale").mkdir()
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "--domain", "django", "--extension", "html,txt,py",
         "--add-location", "never", "--no-wrap", "--ignore", "migrations/*", "--ignore", "testing/*", "-l", "de"],
        cwd=copy, check=True, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(IMPORT_ROOT), "DJANGO_SETTINGS_MODULE": "tests.settings"},
    )
    return parse_po((copy / "locale" / "de" / "LC_MESSAGES" / "django.po").read_text())


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_has_every_source_string(language, source_catalogue):
    committed = parse_po((LOCALE / language / "LC_MESSAGES" / "django.po").read_text())
    missing = sorted(msgid for _ctx, msgid in set(source_catalogue) - set(committed))
    stale = sorted(msgid for _ctx, msgid in set(committed) - set(source_catalogue))
    assert not missing and not stale, (
        f"django_pushmfa/locale/{language}/LC_MESSAGES/django.po is out of date; run scripts/update_locale "
        f"and translate.\n  missing msgids ({len(missing)}):\n    "
        + "\n    ".join(repr(m) for m in missing)
        + f"\n  stale msgids ({len(stale)}):\n    "
        + "\n    ".join(repr(m) for m in stale)
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_translated_and_compiled(language, tmp_path):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    entries = parse_po(po.read_text())
    untranslated = sorted(msgid for (_ctx, msgid), e in entries.items() if not all(e["msgstr"]))
    fuzzy = sorted(msgid for (_ctx, msgid), e in entries.items() if e["fuzzy"])
    assert not untranslated and not fuzzy, f"{po}: untranslated {untranslated}, fuzzy {fuzzy}"
    # The installed .mo is the compiled .po (scripts/update_locale compiles after every change).
    installed = Path(django_pushmfa.__file__).parent / "locale" / language / "LC_MESSAGES" / "django.mo"
    assert installed.exists(), f"{installed} is missing from the package"
    subprocess.run(["msgfmt", "--check-format", "-o", str(tmp_path / "fresh.mo"), str(po)], check=True)
    with installed.open("rb") as shipped, (tmp_path / "fresh.mo").open("rb") as fresh:
        assert gettext.GNUTranslations(shipped)._catalog == gettext.GNUTranslations(fresh)._catalog, (
            f"{installed} is not the compiled {po}: run scripts/update_locale"
        )


@pytest.mark.parametrize(
    "registered, title",
    [
        ("de", "Anmeldeanfrage"),
        ("fr-CA", "Demande de connexion"),
        ("es", "Solicitud de inicio de sesión"),
        ("", "Login request"),
        ("xx", "Login request"),
    ],
)
def test_push_title_in_the_phone_owners_language(registered, title):
    from types import SimpleNamespace

    from django_pushmfa.push.internal.delivery import build_message

    device = SimpleNamespace(language=registered, push_token="t", platform="fcm")
    challenge = SimpleNamespace(id="c", context={}, expires_at=10**10, user_id=1)
    with translation.override("en"):
        assert build_message(challenge, device, now=0).title == title


@pytest.mark.django_db
def test_a_phone_registered_with_a_language_gets_its_push_title_in_it(user_factory):
    """``language`` in ``POST api/device/register/`` (optional): stored, validated, used for the push."""
    from django.test import Client, RequestFactory

    from django_pushmfa.internal.pairing import create_pairing_token
    from django_pushmfa.models import PushDevice
    from django_pushmfa.push.internal.delivery import build_message
    from django_pushmfa.testing.phone import PhoneKey

    def register(user, **extra):
        token = create_pairing_token(user, RequestFactory().get("/")).token
        data = {"pairing_token": token, "platform": "fcm", "push_token": f"tok-{user.pk}",
                "public_key": PhoneKey.generate("p256").public_key_b64(), **extra}
        return Client().post("/mfa/api/device/register/", data, content_type="application/json")

    german, plain, bad = user_factory("hans"), user_factory("ann"), user_factory("eve")
    assert register(german, language="de-AT").status_code == 201
    assert register(plain).status_code == 201
    refused = register(bad, language="de;DROP")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid"
    assert not PushDevice.objects.filter(credential__user=bad).exists()

    challenge = type("C", (), {"id": "c", "context": {"location": "Wien"}, "expires_at": 10**10, "user_id": 1})()
    with translation.override("en"):
        message = build_message(challenge, PushDevice.objects.get(credential__user=german), now=0)
        assert (message.title, message.body) == ("Anmeldeanfrage", "Neue Anmeldung von Wien")
        assert build_message(challenge, PushDevice.objects.get(credential__user=plain), now=0).title == "Login request"
    assert PushDevice.objects.get(credential__user=german).language == "de-AT"
