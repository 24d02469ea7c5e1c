"""Every message the code can show has its Chinese: Django's own ``makemessages`` extracts each message of the
Python code and templates (as ``make messages`` does, into a copy of the sources), and each must come out of the
merged catalogue, in Chinese, as something other than itself. A message written without its translation shows
English to a Chinese reader only when its case happens (a refusal, an error), which a page walk never meets:
``core.limits``' bounds and the API's schema errors did, until this test."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
from django.utils import translation

import civicgrid

PACKAGE = Path(civicgrid.__file__).parent


def _extracted(tmp_path: Path) -> list[polib.POEntry]:
    copy = tmp_path / "src" / "civicgrid"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "static"))
    admin = Path(sys.executable).with_name("django-admin")
    done = subprocess.run([str(admin), "makemessages", "-l", "zh_Hans", "--settings=civicgrid.config.settings",
                           "--pythonpath=..", "-i", "engine/*"], cwd=copy, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    entries = [e for po in sorted(copy.rglob("zh_Hans/LC_MESSAGES/django.po")) for e in polib.pofile(str(po))
               if not e.obsolete]
    assert len(entries) > 3000, len(entries)  # the extraction ran over the whole package
    return entries


def test_every_message_in_the_code_has_its_chinese(tmp_path: Path) -> None:
    untranslated = []
    with translation.override("zh-hans"):
        for entry in _extracted(tmp_path):
            if entry.msgid_plural:
                shown, english = translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 2) \
                    if entry.msgctxt else translation.ngettext(entry.msgid, entry.msgid_plural, 2), entry.msgid_plural
            else:
                shown = translation.pgettext(entry.msgctxt, entry.msgid) if entry.msgctxt else \
                    translation.gettext(entry.msgid)
                english = entry.msgid
            if shown == english:
                untranslated.append(f"{entry.occurrences[:1]} {entry.msgctxt or ''}|{entry.msgid}")
    assert not untranslated, "\n".join(untranslated)
