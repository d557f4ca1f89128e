"""The Italian catalogue covers every text in the code, so no page falls back to English."""
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from tests.conftest import ROOT

TRANSLATIONS = ROOT / "app" / "translations"


def _catalog(locale):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh)


def test_every_italian_message_is_translated_and_not_fuzzy():
    missing = [m.id for m in _catalog("it") if m.id and (
        m.fuzzy or not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
    assert missing == []


def test_the_catalogue_contains_every_text_in_the_sources(tmp_path):
    pot = tmp_path / "fresh.pot"
    subprocess.run(
        [str(Path(sys.executable).with_name("pybabel")), "extract", "-F", str(TRANSLATIONS / "babel.cfg"),
         "-k", "_l", "-k", "lazy_gettext", "-k", "lazy_pgettext:1c,2", "--ignore-dirs", ".* __pycache__ .venv", "-o", str(pot), "."], capture_output=True,
        cwd=ROOT, check=True)
    with pot.open("rb") as fh:
        fresh = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in read_po(fh) if m.id}
    known = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in _catalog("it") if m.id}
    assert fresh - known == set(), "run `make extract-messages` and translate the new texts"


def test_placeholders_match_between_english_and_italian():
    import re

    pattern = re.compile(r"%\(\w+\)[sd]")
    for m in _catalog("it"):
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        expected = set(pattern.findall(ids[-1])) | set(pattern.findall(ids[0]))
        for s in strings:
            assert set(pattern.findall(s)) <= expected, (m.id, s)
