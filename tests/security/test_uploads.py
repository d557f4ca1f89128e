"""Hostile uploads through the real forms: placing a report, writing a proposal, proposing a pact.

tests/test_media.py checks the photo pipeline (prepare_photo, attach_photos) file by file and
tests/test_pact_attachments*.py the PDF rewriting, with one or two files over HTTP. Here the whole
corpus goes through the forms people use: polyglots (JPEG + HTML, JPEG + ZIP, GIF + JavaScript,
PDF + HTML), SVG, decompression bombs (declared and real), huge and odd dimensions, truncated files,
names and types that lie, EXIF GPS, ICC and XMP. Every refusal is a form error (never a 500) that
stores nothing; every accepted file is served back as a clean JPEG without metadata or extra bytes.
All files are generated here.
"""
import io
import struct
import zipfile
import zlib

import pytest
from PIL import Image, ImageCms
from sqlalchemy import func, select

from app.extensions import db
from app.models import Category, Document, Photo, Report, User
from app.seed.demo import seed_places
from tests.conftest import login
from tests.http_helpers import english
from tests.security.payloads import html_problems

GPS_IFD = 0x8825


# --- files --------------------------------------------------------------------------------------------

def picture(fmt="JPEG", size=(64, 48), mode="RGB", color=None, **save):
    out = io.BytesIO()
    Image.new(mode, size, color if color is not None else (180, 40, 40) if mode == "RGB" else 0).save(
        out, fmt, **save)
    return out.getvalue()


def gps_jpeg():
    exif = Image.Exif()
    exif[0x010F] = "Phone Maker"
    exif[0x0131] = "Secret Camera App 1.0"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (45.0, 4.0, 12.0), 3: "E", 4: (7.0, 41.0, 10.0)})
    return picture(exif=exif)


def icc_xmp_jpeg():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
           b"<rdf:RDF><rdf:Description photoshop:City=\"Torino\" exif:GPSLatitude=\"45,4.2N\"/></rdf:RDF>"
           b"</x:xmpmeta><?xpacket end=\"w\"?>")
    return picture(icc_profile=profile, xmp=xmp, comment=b"taken at home, via Roma 1")


def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_declaring(width, height, idat=True):
    """A 1-bit PNG header of ``width``×``height``: with a real (tiny, all-zero) image, or no pixels at all."""
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
    body = b""
    if idat:
        compressor = zlib.compressobj(9)
        row = b"\x00" * (1 + (width + 7) // 8)
        body = png_chunk(b"IDAT", b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush())
    return b"\x89PNG\r\n\x1a\n" + ihdr + body + png_chunk(b"IEND", b"")


def zip_bytes(member=("notes.txt", "nothing to see")):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(*member)
    return out.getvalue()


HTML_ZIP = ("index.html", "<html><script>alert(1)</script></html>")


def gif_javascript_polyglot():
    """A GIF whose header is also the start of a JavaScript comment: `GIF89a/*...*/=alert(1)//`."""
    gif = picture("GIF", size=(10, 10))
    return b"GIF89a/*" + gif[8:] + b"*/=alert(1);//"


def truncated_jpeg():
    data = io.BytesIO()
    Image.effect_noise((256, 256), 80).convert("RGB").save(data, "JPEG", quality=95)
    return data.getvalue()[:3000]


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script><rect/></svg>'

#: name -> (bytes, file name, declared type): files every photo field must refuse.
REFUSED = {
    "svg": (SVG, "drawing.svg", "image/svg+xml"),
    "svg named .jpg": (SVG, "photo.jpg", "image/jpeg"),
    "svgz": (zlib.compress(SVG), "drawing.svgz", "image/svg+xml"),
    "html named .png": (b"<!doctype html><script>alert(1)</script>", "photo.png", "image/png"),
    "jpeg + html polyglot": (picture() + b"<html><body><script>alert(1)</script></body></html>", "a.jpg", "image/jpeg"),
    "jpeg + php": (picture() + b"<?php system($_GET['c']); ?>", "a.jpg", "image/jpeg"),
    "gif/javascript polyglot": (gif_javascript_polyglot(), "a.gif", "image/gif"),
    "gif named .jpg": (picture("GIF"), "a.jpg", "image/jpeg"),
    "tiff": (picture("TIFF"), "a.tif", "image/tiff"),
    "bmp": (picture("BMP"), "a.bmp", "image/bmp"),
    "ico": (picture("ICO", size=(32, 32)), "favicon.ico", "image/x-icon"),
    "pdf named .jpg": (b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF", "a.jpg",
                       "image/jpeg"),
    "zip named .jpg": (zip_bytes(), "a.jpg", "image/jpeg"),
    "jpeg + zip of a web page": (picture() + zip_bytes(HTML_ZIP), "a.jpg", "image/jpeg"),
    "decompression bomb 400 Mpx": (png_declaring(20000, 20000), "bomb.png", "image/png"),
    "declared 10 Gpx, no pixels": (png_declaring(100000, 100000, idat=False), "bomb.png", "image/png"),
    "declared 4 Gpx, one row high": (png_declaring(2 ** 31 - 1, 2, idat=False), "wide.png", "image/png"),
    "zero width": (png_declaring(0, 10, idat=False), "zero.png", "image/png"),
    "truncated jpeg": (truncated_jpeg(), "cut.jpg", "image/jpeg"),
    "jpeg header only": (picture()[:20], "cut.jpg", "image/jpeg"),
    "text": (b"just words", "notes.jpg", "image/jpeg"),
}

#: name -> (bytes, file name, declared type): odd but real pictures, stored re-encoded and clean.
ACCEPTED = {
    "exif gps": (gps_jpeg(), "IMG_0001.jpg", "image/jpeg"),
    "icc, xmp and a comment": (icc_xmp_jpeg(), "IMG_0002.jpg", "image/jpeg"),
    "jpeg + zip appended": (picture() + zip_bytes(), "a.jpg", "image/jpeg"),
    "png named .jpg": (picture("PNG"), "a.jpg", "image/jpeg"),
    "jpeg named .exe": (picture(), "setup.exe", "application/x-msdownload"),
    "jpeg declared as svg": (picture(), "a.svg", "image/svg+xml"),
    "path in the name": (picture(), "../../../etc/passwd.jpg", "image/jpeg"),
    "very wide": (picture("PNG", size=(30000, 2), mode="1"), "pano.png", "image/png"),
    "very tall": (picture("PNG", size=(1, 20000), mode="1"), "tall.png", "image/png"),
    "16-bit grey": (picture("PNG", mode="I;16"), "a.png", "image/png"),
    "cmyk": (picture(mode="CMYK"), "print.jpg", "image/jpeg"),
    "animated webp": (None, "a.webp", "image/webp"),
}


def _animated_webp():
    out = io.BytesIO()
    frames = [Image.new("RGB", (30, 30), c) for c in ("red", "blue", "green")]
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:])
    return out.getvalue()


ACCEPTED["animated webp"] = (_animated_webp(), "a.webp", "image/webp")


def assert_clean_jpeg(data, name=""):
    """What we serve: a JPEG we encoded ourselves, with nothing of the upload but its pixels."""
    assert data.startswith(b"\xff\xd8\xff") and data.rstrip(b"\x00").endswith(b"\xff\xd9"), name
    im = Image.open(io.BytesIO(data))
    im.load()
    assert im.format == "JPEG" and im.mode in ("RGB", "L"), name
    assert len(im.getexif()) == 0 and not im.getexif().get_ifd(GPS_IFD), name
    for key in ("exif", "icc_profile", "xmp", "comment", "XML:com.adobe.xmp"):
        assert key not in im.info, (name, key)
    for marker in (b"Exif", b"Phone Maker", b"Secret Camera", b"xmpmeta", b"Torino", b"via Roma", b"PK\x03\x04",
                   b"<script", b"<html", b"ICC_PROFILE"):
        assert marker not in data, (name, marker)


# --- the forms ------------------------------------------------------------------------------------------

@pytest.fixture
def client(client):
    return english(client)


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path, monkeypatch):
    path = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(path))
    return path


@pytest.fixture
def citizen(app, make_user):
    return make_user(email="rosa@example.org")


@pytest.fixture
def city(app):
    with app.app_context():
        seed_places()
        db.session.commit()
        from app import geo

        geo.clear_cache()
        return {"category": db.session.scalar(select(Category.id).where(Category.slug == "illuminazione"))}


def post_report(client, city, files):
    return client.post("/reports/new", data={
        "category_id": str(city["category"]), "title": "Lampione spento", "description": "Spento da giorni.",
        "lat": "45.0450", "lon": "7.6780", "district_id": "0", "confirmed_new": "1",
        "photos": [(io.BytesIO(data), name, kind) for data, name, kind in files]}, content_type="multipart/form-data")


def stored_files(path):
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


def counts(app):
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Report, Photo, Document))


def test_every_hostile_file_is_a_form_error_and_nothing_is_stored(app, client, citizen, city, upload_dir):
    login(client, citizen)
    for name, upload in sorted(REFUSED.items()):  # one world for the whole corpus (they store nothing)
        response = post_report(client, city, [upload])
        assert response.status_code in (200, 400, 413), (name, response.status_code)
        assert response.mimetype == "text/html", name
        assert 'class="error-message"' in response.text or "error-summary" in response.text, name
        assert counts(app) == (0, 0, 0), name
        assert stored_files(upload_dir) == [], name


def test_one_hostile_file_among_good_ones_refuses_them_all(app, client, citizen, city, upload_dir):
    login(client, citizen)
    response = post_report(client, city, [ACCEPTED["exif gps"], REFUSED["svg named .jpg"], ACCEPTED["cmyk"]])
    assert response.status_code == 200
    assert counts(app) == (0, 0, 0) and stored_files(upload_dir) == []


def test_every_odd_but_real_picture_is_stored_as_a_clean_jpeg(app, client, citizen, city, upload_dir):
    login(client, citizen)
    for name, upload in sorted(ACCEPTED.items()):
        with app.app_context():
            known = set(db.session.scalars(select(Photo.id)))
        response = post_report(client, city, [upload])
        assert response.status_code == 302, (name, response.text[:500])
        with app.app_context():
            photo = db.session.scalar(select(Photo).where(Photo.id.not_in(known)))
            keys, content_type = (photo.storage_key, photo.thumb_key), photo.content_type
        assert content_type == "image/jpeg", name
        assert set(keys) <= set(stored_files(upload_dir)), name  # random keys: nothing of the file's name
        for key in keys:
            served = client.get(f"/media/{key}")
            assert served.status_code == 200 and served.mimetype == "image/jpeg", name
            assert served.headers["X-Content-Type-Options"] == "nosniff", name
            assert_clean_jpeg(served.data, name)
            assert served.data == (upload_dir / key).read_bytes(), name
    assert len(stored_files(upload_dir)) == 2 * len(ACCEPTED)


def test_a_request_over_the_size_limit_is_a_clean_413(app, client, citizen, city, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    login(client, citizen)
    response = post_report(client, city, [(picture() + b"\x00" * (128 * 1024), "big.jpg", "image/jpeg")])
    assert response.status_code == 413
    assert response.mimetype == "text/html" and 'class="error-page"' in response.text
    assert counts(app) == (0, 0, 0)


# --- the other forms with photos and documents -------------------------------------------------------

@pytest.fixture
def collecting(app, city):
    from datetime import timedelta

    from tests.test_proposals import build_process

    day = timedelta(days=1)
    with app.app_context():
        process = build_process(phases={"collection": (-day, day), "support": (day, 10 * day)})
        return process.id


def post_proposal(client, city, process_id, files):
    return client.post("/proposals/new", data={
        "process_id": process_id, "title": "Panchine in piazza", "body": "Tre panchine.",
        "category_id": city["category"], "district_id": 0, "lat": "", "lon": "", "coauthors": "",
        "photos": [(io.BytesIO(data), name, kind) for data, name, kind in files]}, content_type="multipart/form-data")


@pytest.fixture
def pact_world(app):
    from tests.pact_builders import pact_world as build, reload_user

    with app.app_context():
        world = build()
        world.users = {role: reload_user(user.id) for role, user in world.users.items()}
        for user in world.users.values():
            db.session.expunge(user)
        return world


def post_pact(client, world, photos=(), documents=()):
    data = {
        "title": "Orti condivisi", "commons_choice": "existing", "commons_id": world.commons_id,
        "organisation_id": world.organisation_id, "kind_requested": "ordinary",
        "objectives": "Un orto per il quartiere.", "activities": "Ogni sabato.", "beneficiaries": "",
        "duration_months": "24", "own_resources": "", "support-0-kind": "", "support-1-kind": "",
        "support-2-kind": "", "support-3-kind": "", "declare_truth": "y", "declare_rules": "y", "declare_privacy": "y",
        "photos": [(io.BytesIO(d), n, k) for d, n, k in photos],
        "documents": [(io.BytesIO(d), n, k) for d, n, k in documents],
    }
    return client.post("/pacts/new", data=data, content_type="multipart/form-data")


SAMPLE = ("svg named .jpg", "decompression bomb 400 Mpx", "gif/javascript polyglot", "jpeg + html polyglot")


@pytest.mark.parametrize("name", SAMPLE)
def test_the_proposal_and_pact_forms_refuse_hostile_photos_too(app, client, citizen, city, collecting,
                                                               pact_world, upload_dir, name):
    login(client, citizen)
    response = post_proposal(client, city, collecting, [REFUSED[name]])
    assert response.status_code == 200 and 'class="error-message"' in response.text
    login(client, pact_world.author)
    response = post_pact(client, pact_world, photos=[REFUSED[name]])
    assert response.status_code in (200, 400) and 'class="error-message"' in response.text
    with app.app_context():
        from app.models import Pact, Proposal

        assert db.session.scalar(select(func.count(Proposal.id))) == 0
        assert db.session.scalar(select(func.count(Pact.id))) == 0
    assert stored_files(upload_dir) == []


def test_the_proposal_and_pact_forms_strip_gps_too(app, client, citizen, city, collecting, pact_world, upload_dir):
    login(client, citizen)
    assert post_proposal(client, city, collecting, [ACCEPTED["exif gps"]]).status_code == 302
    login(client, pact_world.author)
    assert post_pact(client, pact_world, photos=[ACCEPTED["icc, xmp and a comment"]]).status_code == 302
    with app.app_context():
        keys = db.session.scalars(select(Photo.storage_key)).all()
    assert len(keys) == 2
    for key in keys:
        assert_clean_jpeg((upload_dir / key).read_bytes())


def _pdf(extra=b""):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Piano delle attività")
    return bytes(pdf.output()) + extra


HOSTILE_DOCUMENTS = {
    "html named .pdf": (b"<!doctype html><script>alert(1)</script>", "piano.pdf", "application/pdf"),
    "svg named .pdf": (SVG, "piano.pdf", "application/pdf"),
    "jpeg named .pdf": (picture(), "piano.pdf", "application/pdf"),
    "pdf header only": (b"%PDF-1.7\n", "piano.pdf", "application/pdf"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_DOCUMENTS))
def test_what_is_not_a_pdf_is_a_form_error(app, client, pact_world, upload_dir, name):
    login(client, pact_world.author)
    response = post_pact(client, pact_world, documents=[HOSTILE_DOCUMENTS[name]])
    assert response.status_code in (200, 400) and 'class="error-message"' in response.text
    assert counts(app)[2] == 0 and stored_files(upload_dir) == []


def test_a_pdf_with_html_and_a_zip_appended_is_stored_rewritten_without_them(app, client, pact_world, upload_dir):
    login(client, pact_world.author)
    polyglot = _pdf(b"\n<html><body><script>alert(1)</script></body></html>\n" + zip_bytes(HTML_ZIP))
    response = post_pact(client, pact_world, documents=[(polyglot, "piano.pdf", "application/pdf")])
    assert response.status_code == 302
    with app.app_context():
        key = db.session.scalar(select(Document.storage_key))
    stored = (upload_dir / key).read_bytes()
    assert stored.startswith(b"%PDF-") and b"<script" not in stored and b"PK\x03\x04" not in stored
    served = client.get(f"/media/documents/{key}")
    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in served.headers["Content-Security-Policy"]


@pytest.mark.parametrize("filename", [
    "\"'><img src=x onerror=zqx1>.pdf",
    "<script>zqx2</script>.pdf",
    "piano\r\nSet-Cookie: pwned=1.pdf",
    "{{7*7}}zqx5.pdf",
    "../../../../etc/passwd.pdf",
    "javascript:zqx4.pdf",
])
def test_a_document_name_is_shown_and_sent_as_text(app, client, pact_world, upload_dir, filename):
    login(client, pact_world.author)
    response = post_pact(client, pact_world, documents=[(_pdf(), filename, "application/pdf")])
    if response.status_code == 400:  # a line break in a part's header: the request itself is refused
        assert "\n" in filename and counts(app) == (0, 0, 0)
        return
    assert response.status_code == 302
    with app.app_context():
        document = db.session.scalar(select(Document))
        key, pact_id, shown = document.storage_key, document.owner_id, document.filename
    assert "/" not in shown and "\r" not in shown and "\n" not in shown
    for path in (f"/pacts/{pact_id}", f"/pacts/{pact_id}/edit"):
        page = client.get(path)
        assert page.status_code == 200
        assert html_problems(page.text) == [], path
        assert "49zqx5" not in page.text
    served = client.get(f"/media/documents/{key}")
    disposition = served.headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "pwned" not in str(served.headers.getlist(
        "Set-Cookie"))
    ascii_name = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert all(c.isalnum() or c in "._-" for c in ascii_name), ascii_name
    with app.app_context():
        assert db.session.get(User, pact_world.author.id) is not None
