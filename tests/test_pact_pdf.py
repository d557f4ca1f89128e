"""The pact document as a PDF: served for public pacts only, a real PDF with the title, the parties and
the signatures' hashes; DejaVu Sans when present, else core Helvetica with the text brought to latin-1."""
import os
import re
import shutil
import subprocess
import zlib

import pytest

from app.extensions import db
from app.models.pact import Pact, PactStatus
from app.pacts import pdf, services
from tests.pact_builders import advance, draft
from tests.test_pacts_http import detached_world

S = PactStatus
TITLE = "Cura del giardino “Aurora” – 5 € l'anno"


@pytest.fixture
def world(app):
    return detached_world(app)


def _strings(body):
    """Literal strings drawn in an uncompressed or compressed core-font PDF (enough to find words)."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", body, re.S)
    out = b""
    for stream in streams:
        try:
            out += zlib.decompress(stream)
        except zlib.error:
            out += stream
    return b"".join(re.findall(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj", out)).decode("latin-1")


def test_a_public_pact_as_pdf(app, client, world):
    with app.app_context():
        pact_id = advance(world, S.active, title=TITLE)
        hashes = [s.text_sha256 for s in db.session.get(Pact, pact_id).signatures]
    response = client.get(f"/pacts/{pact_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    body = response.get_data()
    assert body.startswith(b"%PDF") and body.rstrip().endswith(b"%%EOF")
    assert "inline" in response.headers["Content-Disposition"]
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True, check=True).stdout.decode()
        assert TITLE in text and hashes[0] in text


def test_the_title_parties_and_hashes_are_in_the_document(app, world):
    """With the core font and no compression the drawn strings can be read back from the file."""
    with app.app_context(), app.test_request_context():
        pact_id = advance(world, S.active, title=TITLE)
        pact = db.session.get(Pact, pact_id)
        body = pdf.render(pact, services.verify(pact), font_dir=None, compress=False)
        hashes = [s.text_sha256 for s in pact.signatures]
        organisation = world.organisation.name
    assert body.startswith(b"%PDF")
    text = _strings(body).replace("\\", "")
    assert 'Cura del giardino "Aurora" - 5 EUR l\'anno' in text
    assert organisation in text
    assert all(h in text for h in hashes) and len(hashes) == 3


def test_the_system_font_when_present_else_the_core_one(app, world):
    """Characters outside latin-1 never break the rendering, whichever font is used."""
    installed = all(os.path.exists(os.path.join(pdf.FONT_DIR, name)) for name in pdf.FONT_FILES.values())
    with app.app_context(), app.test_request_context():
        pact_id = advance(world, S.signing, title=TITLE + " ✓ ąč")
        pact = db.session.get(Pact, pact_id)
        body = pdf.render(pact, services.verify(pact))
    assert body.startswith(b"%PDF")
    assert (b"DejaVu" in body) is installed and (b"Helvetica" in body) is not installed


@pytest.mark.parametrize("status", [S.draft, S.submitted, S.needs_integration, S.inadmissible])
def test_not_public_pacts_have_no_pdf(app, client, world, status):
    with app.app_context():
        pact_id = draft(world).id if status == S.draft else advance(world, status)
    assert client.get(f"/pacts/{pact_id}.pdf").status_code == 404
    assert client.get("/pacts/999999.pdf").status_code == 404


def test_a_hidden_pact_has_no_pdf(app, client, world):
    from app.models.base import utcnow

    with app.app_context():
        pact_id = advance(world, S.active)
        db.session.get(Pact, pact_id).hidden_at = utcnow()
        db.session.commit()
    assert client.get(f"/pacts/{pact_id}.pdf").status_code == 404


def test_latin1_transliteration():
    assert pdf.to_latin1("5 € “sì” ‘no’ – fine… ąčž ✓") == "5 EUR \"sì\" 'no' - fine... acz ?"
    assert pdf.to_latin1("Caffè à l'école") == "Caffè à l'école"
