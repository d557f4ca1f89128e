"""Photo uploads: checked by content, re-encoded without metadata, stored safely, served safely.

Every image, hostile or not, is generated here with Pillow or by hand: no binaries committed.
"""
import io
import struct
import time
import zlib

import pytest
from PIL import Image, ImageCms
from sqlalchemy import delete, func, select
from werkzeug.datastructures import FileStorage

from app import create_app
from app.extensions import db
from app.media.services import UnsafeUpload, attach_photos, delete_photo, photos_of, prepare_photo
from app.media.storage import InvalidKey, LocalStorage, get_storage
from app.models import Photo
from app.models.base import utcnow
from tests.conftest import make_config

GPS_IFD = 0x8825
ORIENTATION = 0x0112


# --- builders -------------------------------------------------------------------------------

def image_bytes(fmt="JPEG", size=(64, 48), color="red", mode="RGB", **save):
    """Encode a plain picture; extra keyword arguments go to Image.save."""
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **save)
    return out.getvalue()


def gps_exif():
    """EXIF with a camera maker and a GPS position in Turin."""
    exif = Image.Exif()
    exif[0x010F] = "Phone Maker"
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (45.0, 4.0, 12.0), 3: "E", 4: (7.0, 41.0, 10.0)})
    return exif


def upload(data, filename="photo.jpg", content_type="image/jpeg"):
    """A FileStorage as Flask hands it to a view."""
    return FileStorage(stream=io.BytesIO(data), filename=filename, content_type=content_type)


def png_chunk(kind, payload):
    """One PNG chunk with its CRC."""
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_bomb(width, height):
    """A valid 1-bit PNG of ``width``×``height`` zeros: a few KB on disk, huge once decoded.

    Written by hand, row by row, so the test never holds the decoded picture in memory.
    """
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed pixels
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def reopen(data):
    """Pillow's view of bytes we produced."""
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def assert_no_metadata(data):
    """The output carries no EXIF, GPS, ICC profile, XMP or comment."""
    im = reopen(data)
    assert im.format == "JPEG"
    assert len(im.getexif()) == 0
    assert not im.getexif().get_ifd(GPS_IFD)
    for key in ("exif", "icc_profile", "xmp", "comment", "XML:com.adobe.xmp"):
        assert key not in im.info, key
    assert b"Exif" not in data and b"Phone Maker" not in data and b"xmpmeta" not in data


# --- fixtures -------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path, monkeypatch):
    """Each test stores its files in its own directory, which does not exist yet."""
    path = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(path))
    return path


@pytest.fixture
def ctx(app):
    """A request context in English, so messages can be compared; the session is rolled back after."""
    with app.test_request_context("/?lang=en"):
        yield
        db.session.rollback()


def stored_files(path):
    """Names of the files in the upload directory (none if it was never created)."""
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


def photo_count():
    """Rows in the photos table."""
    return db.session.scalar(select(func.count(Photo.id)))


# --- prepare_photo: what comes out ----------------------------------------------------------

def test_gps_and_every_other_metadata_are_stripped(ctx):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = image_bytes(exif=gps_exif(), icc_profile=icc, xmp=b"<x:xmpmeta>secret</x:xmpmeta>",
                           comment=b"taken at home")
    assert reopen(original).getexif().get_ifd(GPS_IFD), "the fixture must really carry GPS"

    prepared = prepare_photo(upload(original))

    assert_no_metadata(prepared.data)
    assert_no_metadata(prepared.thumb)
    assert prepared.content_type == "image/jpeg"


def test_exif_orientation_is_applied(ctx):
    # Stored landscape, left half red and right half blue, tagged "rotate 90° clockwise".
    im = Image.new("RGB", (300, 200), "red")
    im.paste(Image.new("RGB", (150, 200), "blue"), (150, 0))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif)

    prepared = prepare_photo(out.getvalue())

    assert (prepared.width, prepared.height) == (200, 300)
    shown = reopen(prepared.data)
    assert shown.size == (200, 300)
    top, bottom = shown.getpixel((100, 20)), shown.getpixel((100, 280))
    assert top[0] > 200 and top[2] < 60  # red on top: the left side went up
    assert bottom[2] > 200 and bottom[0] < 60


def test_png_transparency_becomes_rgb_on_white(ctx):
    im = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    im.paste(Image.new("RGBA", (40, 40), (255, 0, 0, 255)), (30, 30))
    out = io.BytesIO()
    im.save(out, "PNG")

    shown = reopen(prepare_photo(upload(out.getvalue(), "a.png", "image/png")).data)

    assert shown.mode == "RGB"
    assert all(c > 245 for c in shown.getpixel((5, 5)))
    red = shown.getpixel((50, 50))
    assert red[0] > 240 and red[1] < 20 and red[2] < 20


def test_palette_png_with_transparency_and_webp_are_accepted(ctx):
    palette = Image.new("P", (32, 32), 0)
    out = io.BytesIO()
    palette.save(out, "PNG", transparency=0)
    assert reopen(prepare_photo(out.getvalue()).data).getpixel((1, 1))[0] > 245

    prepared = prepare_photo(image_bytes("WEBP", size=(40, 30)))
    assert (prepared.width, prepared.height) == (40, 30)
    assert reopen(prepared.data).format == "JPEG"


def test_big_photo_is_downscaled_and_thumbnail_made(ctx, app):
    prepared = prepare_photo(image_bytes("PNG", size=(5000, 1000)))

    assert app.config["PHOTO_MAX_SIDE"] == 2048 and app.config["THUMB_MAX_SIDE"] == 480
    assert (prepared.width, prepared.height) == (2048, 410)
    assert (prepared.thumb_width, prepared.thumb_height) == (480, 96)
    assert reopen(prepared.data).size == (2048, 410)
    assert reopen(prepared.thumb).size == (480, 96)


def test_small_photo_is_not_upscaled(ctx):
    prepared = prepare_photo(image_bytes(size=(300, 200)))
    assert (prepared.width, prepared.height) == (300, 200)
    assert (prepared.thumb_width, prepared.thumb_height) == (300, 200)


def test_output_is_a_progressive_jpeg(ctx):
    shown = reopen(prepare_photo(image_bytes(size=(200, 200))).data)
    assert shown.info.get("progressive") or shown.info.get("progression")


# --- prepare_photo: what is refused ---------------------------------------------------------

def jpeg_with_html():
    """Valid JPEG bytes with an HTML page appended: a browser sniffing it could run the script."""
    return image_bytes() + b"<html><script>alert(1)</script></html>"


def truncated_jpeg():
    """The first half of a detailed JPEG: the header parses, the pixels don't."""
    im = Image.effect_noise((256, 256), 80).convert("RGB")
    out = io.BytesIO()
    im.save(out, "JPEG", quality=95)
    data = out.getvalue()
    return data[: len(data) // 2]


HOSTILE = {
    "svg named photo.jpg": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "photo.jpg", "image/jpeg"),
    "html named photo.png": (
        b"<!doctype html><html><body><script>alert(1)</script></body></html>", "photo.png", "image/png"),
    "gif": (image_bytes("GIF"), "photo.gif", "image/gif"),
    "gif named photo.jpg": (image_bytes("GIF"), "photo.jpg", "image/jpeg"),
    "tiff": (image_bytes("TIFF"), "photo.tif", "image/tiff"),
    "bmp": (image_bytes("BMP"), "photo.bmp", "image/bmp"),
    "pdf": (b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF", "photo.jpg", "image/jpeg"),
    "plain text": (b"just some words, not a picture", "photo.jpg", "image/jpeg"),
    "php in a jpeg": (image_bytes() + b"<?php system($_GET['c']); ?>", "photo.jpg", "image/jpeg"),
    "jpeg+html polyglot": (jpeg_with_html(), "photo.jpg", "image/jpeg"),
    "truncated jpeg": (truncated_jpeg(), "photo.jpg", "image/jpeg"),
    "jpeg header only": (image_bytes()[:20], "photo.jpg", "image/jpeg"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_is_refused(ctx, upload_dir, name):
    data, filename, content_type = HOSTILE[name]

    with pytest.raises(UnsafeUpload) as refused:
        prepare_photo(upload(data, filename, content_type))

    assert "JPEG, PNG or WebP" in refused.value.message
    assert stored_files(upload_dir) == []


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_stores_nothing_through_attach(ctx, upload_dir, make_user, name):
    data, filename, content_type = HOSTILE[name]
    user = make_user()

    with pytest.raises(UnsafeUpload):
        attach_photos([upload(image_bytes()), upload(data, filename, content_type)], "exhibit", 1, user)

    assert stored_files(upload_dir) == []
    assert photo_count() == 0


def test_empty_file_is_refused(ctx, upload_dir):
    with pytest.raises(UnsafeUpload) as refused:
        prepare_photo(upload(b""))
    assert refused.value.reason == "empty"
    assert refused.value.message == "The file is empty."
    assert stored_files(upload_dir) == []


def test_file_over_the_byte_cap_is_refused_reading_only_cap_plus_one(ctx, app, monkeypatch, upload_dir):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 1000)
    stream = io.BytesIO(image_bytes(size=(400, 400)) + b"\x00" * 5000)

    with pytest.raises(UnsafeUpload) as refused:
        prepare_photo(FileStorage(stream=stream, filename="big.jpg"))

    assert refused.value.reason == "too_large"
    assert "too large" in refused.value.message
    assert stream.tell() == 1001
    assert stored_files(upload_dir) == []


def test_default_byte_cap_message_says_megabytes(ctx, app, monkeypatch):
    assert app.config["UPLOAD_MAX_BYTES"] == 10 * 1024 * 1024
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 2 * 1024 * 1024)
    with pytest.raises(UnsafeUpload) as refused:
        prepare_photo(b"\xff" * (2 * 1024 * 1024 + 1))
    assert refused.value.message == "The photo is too large (more than 2 MB)."


@pytest.mark.parametrize("size", [
    (20000, 20000),  # 400 Mpx: beyond Pillow's own hard limit
    (10000, 10000),  # 100 Mpx: where Pillow only warns
    (8000, 6000),    # 48 Mpx: fine for Pillow, over our 40 Mpx
])
def test_decompression_bomb_is_refused_before_decoding(ctx, upload_dir, monkeypatch, size):
    bomb = png_bomb(*size)
    assert len(bomb) < 200_000
    decoded = []
    real_load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self.size) or real_load(self))
    from PIL import ImageFile
    real_file_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self.size) or real_file_load(self))

    started = time.monotonic()
    with pytest.raises(UnsafeUpload) as refused:
        prepare_photo(upload(bomb, "bomb.png", "image/png"))

    assert refused.value.reason == "too_many_pixels"
    assert refused.value.message == "The picture has too many pixels."
    assert decoded == []
    assert time.monotonic() - started < 2
    assert stored_files(upload_dir) == []


def test_a_picture_just_under_the_pixel_limit_is_accepted(ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_PIXELS", 100 * 100)
    assert prepare_photo(image_bytes(size=(100, 100))).width == 100
    with pytest.raises(UnsafeUpload):
        prepare_photo(image_bytes(size=(101, 100)))


def test_everyday_text_in_metadata_is_not_taken_for_markup(ctx):
    # XMP is XML; only HTML/SVG/script/PHP markers count as a polyglot.
    data = image_bytes(xmp=b'<?xpacket begin="x"?><x:xmpmeta><rdf:RDF/></x:xmpmeta>')
    assert prepare_photo(data).width == 64


# --- attach_photos, photos_of, delete_photo -------------------------------------------------

def test_attach_stores_files_and_rows_without_committing(ctx, upload_dir, make_user):
    user = make_user()
    photos = attach_photos([upload(image_bytes(exif=gps_exif())), upload(image_bytes("PNG"), "b.png")],
                           "exhibit", 7, user)

    assert [p.position for p in photos] == [0, 1]
    storage = get_storage()
    for photo in photos:
        assert photo.id is not None and photo.uploaded_by_id == user.id
        assert photo.content_type == "image/jpeg"
        assert storage.exists(photo.storage_key) and storage.exists(photo.thumb_key)
        assert photo.storage_key.endswith(".jpg") and len(photo.storage_key) >= 24
        assert photo.size_bytes == len(storage.open(photo.storage_key))
        assert_no_metadata(storage.open(photo.storage_key))
    assert len(stored_files(upload_dir)) == 4
    db.session.rollback()  # the caller did not commit: the rows are gone
    assert photo_count() == 0


def test_attach_refuses_a_fourth_photo(ctx, upload_dir, make_user):
    user = make_user()
    with pytest.raises(UnsafeUpload) as refused:
        attach_photos([upload(image_bytes()) for _ in range(4)], "exhibit", 1, user)
    assert refused.value.message == "You can add at most 3 photos."
    assert stored_files(upload_dir) == [] and photo_count() == 0


def test_attach_counts_the_photos_already_there(ctx, upload_dir, make_user):
    user = make_user()
    attach_photos([upload(image_bytes()), upload(image_bytes())], "exhibit", 1, user)
    db.session.commit()
    attach_photos([upload(image_bytes())], "proposal", 1, user)  # another item: its own three

    with pytest.raises(UnsafeUpload):
        attach_photos([upload(image_bytes()), upload(image_bytes())], "exhibit", 1, user)
    db.session.rollback()

    third = attach_photos([upload(image_bytes())], "exhibit", 1, user)
    assert [p.position for p in third] == [2]


def test_attach_reuses_the_position_of_a_deleted_photo(ctx, make_user):
    user = make_user()
    first, _second = attach_photos([upload(image_bytes()), upload(image_bytes())], "exhibit", 1, user)
    db.session.commit()
    delete_photo(first)
    db.session.commit()
    (again,) = attach_photos([upload(image_bytes())], "exhibit", 1, user)
    assert again.position == 0


def test_empty_file_inputs_are_ignored(ctx, upload_dir, make_user):
    blank = FileStorage(stream=io.BytesIO(b""), filename="", content_type="application/octet-stream")
    assert attach_photos([blank, blank], "exhibit", 1, make_user()) == []
    photos = attach_photos([blank, upload(image_bytes()), blank, blank], "exhibit", 1, None)
    assert len(photos) == 1 and photos[0].uploaded_by_id is None


def test_a_named_empty_file_is_an_error_not_ignored(ctx):
    with pytest.raises(UnsafeUpload) as refused:
        attach_photos([upload(b"", "photo.jpg")], "exhibit", 1, None)
    assert refused.value.reason == "empty"


def test_files_written_before_a_failure_are_deleted(ctx, upload_dir, monkeypatch):
    calls = []
    real_save = LocalStorage.save

    def failing_save(self, key, data):
        calls.append(key)
        if len(calls) == 4:
            raise OSError("disk full")
        real_save(self, key, data)

    monkeypatch.setattr(LocalStorage, "save", failing_save)
    with pytest.raises(OSError):
        attach_photos([upload(image_bytes()) for _ in range(3)], "exhibit", 1, None)

    assert len(calls) == 4
    assert stored_files(upload_dir) == []


def test_photos_of_hides_hidden_photos_unless_asked(ctx):
    photos = attach_photos([upload(image_bytes()) for _ in range(3)], "exhibit", 3, None)
    photos[1].hidden_at = utcnow()
    db.session.commit()

    assert [p.position for p in photos_of("exhibit", 3)] == [0, 2]
    assert [p.position for p in photos_of("exhibit", 3, include_hidden=True)] == [0, 1, 2]
    assert photos_of("exhibit", 4) == [] and photos_of("proposal", 3) == []


def test_delete_photo_removes_row_and_files(ctx, upload_dir):
    (photo,) = attach_photos([upload(image_bytes())], "exhibit", 1, None)
    db.session.commit()
    keep = attach_photos([upload(image_bytes())], "exhibit", 2, None)[0]
    db.session.commit()

    delete_photo(photo)
    db.session.commit()

    assert photo_count() == 1
    assert stored_files(upload_dir) == sorted([keep.storage_key, keep.thumb_key])


def test_uploader_deletion_keeps_the_photo(ctx, make_user):
    from app.models import User

    user = make_user()
    (photo,) = attach_photos([upload(image_bytes())], "exhibit", 1, user)
    db.session.commit()
    db.session.execute(delete(User).where(User.id == user.id))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Photo, photo.id).uploaded_by_id is None


# --- storage --------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["", ".", "..", "...", "../x.jpg", "a/b.jpg", "a\\b.jpg", "/etc/passwd",
                                 ".tmp-abc", "x\x00.jpg", "é.jpg", "a" * 200, None])
def test_storage_refuses_keys_that_could_escape(tmp_path, key):
    storage = LocalStorage(tmp_path / "up")
    with pytest.raises(InvalidKey):
        storage.save(key, b"x")
    with pytest.raises(InvalidKey):
        storage.open(key)
    with pytest.raises(InvalidKey):
        storage.exists(key)
    with pytest.raises(InvalidKey):
        storage.delete(key)
    assert not (tmp_path / "up").exists()


def test_storage_creates_its_directory_on_first_save_and_writes_atomically(tmp_path):
    root = tmp_path / "deep" / "uploads"
    storage = LocalStorage(root)
    assert not storage.exists("abc.jpg") and not root.exists()

    storage.save("abc.jpg", b"one")
    storage.save("abc.jpg", b"two")

    assert storage.open("abc.jpg") == b"two"
    assert sorted(p.name for p in root.iterdir()) == ["abc.jpg"]  # no temp file left behind
    storage.delete("abc.jpg")
    storage.delete("abc.jpg")  # deleting twice is fine
    assert not storage.exists("abc.jpg")
    with pytest.raises(FileNotFoundError):
        storage.open("abc.jpg")


def test_create_app_does_not_create_the_upload_directory(database_url, tmp_path):
    uploads = tmp_path / "uploads"
    create_app(make_config(database_url, tmp_path, UPLOAD_DIR=str(uploads)))
    assert not uploads.exists()


def test_get_storage_follows_the_configured_directory(ctx, upload_dir):
    storage = get_storage()
    assert isinstance(storage, LocalStorage) and storage.root == upload_dir


# --- GET /media/<key> -----------------------------------------------------------------------

def stored_photo(app, owner_id=1, hidden=False):
    """Attach one photo in its own app context, commit, and return (storage_key, thumb_key, bytes)."""
    with app.app_context():
        (photo,) = attach_photos([upload(image_bytes(exif=gps_exif()))], "exhibit", owner_id, None)
        if hidden:
            photo.hidden_at = utcnow()
        db.session.commit()
        keys = (photo.storage_key, photo.thumb_key)
        data = get_storage().open(photo.storage_key), get_storage().open(photo.thumb_key)
        db.session.remove()
    return keys, data


@pytest.mark.parametrize("which", [0, 1], ids=["full", "thumbnail"])
def test_media_serves_the_photo_with_safe_headers(app, client, which):
    keys, data = stored_photo(app)

    response = client.get(f"/media/{keys[which]}")

    assert response.status_code == 200
    assert response.data == data[which]
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == "inline"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert response.headers["ETag"]
    assert_no_metadata(response.data)


def test_media_answers_304_to_a_matching_etag(app, client):
    (key, _), _ = stored_photo(app)
    etag = client.get(f"/media/{key}").headers["ETag"]

    again = client.get(f"/media/{key}", headers={"If-None-Match": etag})

    assert again.status_code == 304 and again.data == b""


def test_media_keeps_its_headers_for_a_signed_in_user_but_no_shared_cache_may_keep_it(
        app, client, make_user, login_as):
    # What a signed-in person sees may be theirs alone (a draft's photos): private caches only.
    (key, _), _ = stored_photo(app)
    login_as(make_user())
    response = client.get(f"/media/{key}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, max-age=3600"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


@pytest.mark.parametrize("key", ["nosuchkey.jpg", "..", ".tmp-x", "%2e%2e%2fconfig.py", "a%5cb.jpg"])
def test_media_404s_unknown_keys(app, client, key):
    stored_photo(app)
    response = client.get(f"/media/{key}")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")


def test_media_404s_hidden_photos_full_and_thumbnail(app, client):
    keys, _ = stored_photo(app, hidden=True)
    for key in keys:
        assert client.get(f"/media/{key}").status_code == 404


def test_media_404s_a_stored_file_without_a_row(app, client):
    with app.app_context():
        get_storage().save("orphanfile.jpg", image_bytes())
    assert client.get("/media/orphanfile.jpg").status_code == 404


def test_media_404s_a_row_whose_file_is_gone(app, client):
    (key, _), _ = stored_photo(app)
    with app.app_context():
        get_storage().delete(key)
    assert client.get(f"/media/{key}").status_code == 404


def test_media_endpoint_is_public_and_get_only(app, client):
    from app.auth.access import rule_for

    with app.test_request_context():
        assert rule_for("media.photo").level == "public"
    (key, _), _ = stored_photo(app)
    assert client.post(f"/media/{key}").status_code == 405


def test_unsafe_upload_is_a_400_domain_error_with_the_not_a_photo_message(ctx):
    from app.models.base import DomainError

    refused = UnsafeUpload()
    assert isinstance(refused, DomainError) and refused.status == 400
    assert refused.reason == "type"
    assert refused.message == "This file is not a photo we can accept: use a JPEG, PNG or WebP image."
