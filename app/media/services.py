"""Photo uploads: every check in memory first, then a clean JPEG re-encode, then storage.

Nothing a user sent is ever stored or served as is: we keep only pixels we decoded
ourselves and encoded again as JPEG, without EXIF (GPS!), ICC, XMP or comments.
"""
import re
import secrets
import warnings
from dataclasses import dataclass
from io import BytesIO

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from PIL import Image, ImageCms, ImageOps
from sqlalchemy import select

from app.extensions import db
from app.media.storage import get_storage
from app.models.base import DomainError
from app.models.photo import Photo

#: Pillow format names we accept, detected from the content. Passing them to Image.open
#: also keeps every other decoder (GIF, TIFF, PSD, EPS...) from ever running on user input.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")

CONTENT_TYPE = "image/jpeg"
JPEG_OPTIONS = {"quality": 85, "optimize": True, "progressive": True}

#: Markup that must never hide inside a "photo" (polyglots). Re-encoding already drops it;
#: refusing such files outright is defence in depth. Short tags need a following
#: delimiter so that random compressed bytes do not match by chance.
MARKUP = re.compile(rb"<(?:script|html|svg|iframe|object|embed)[\s/>]|<\?php|<!doctype", re.IGNORECASE)

_SRGB = None


class UnsafeUpload(DomainError):
    """An uploaded file we refuse; ``reason`` says why for code, ``message`` for people."""

    status = 400

    def __init__(self, message=None, reason="type", **details):
        """Default to the "not a photo" message, the right answer for most refusals."""
        super().__init__(message or _not_a_photo(), reason=reason, **details)
        self.reason = reason


def _not_a_photo():
    """The message for anything that is not a JPEG, PNG or WebP picture."""
    return _("This file is not a photo we can accept: use a JPEG, PNG or WebP image.")


def _human_size(n_bytes):
    """A byte count for people: "10 MB", or "500 KB" below one megabyte."""
    if n_bytes >= 1024 * 1024:
        return f"{n_bytes // (1024 * 1024)} MB"
    return f"{max(1, n_bytes // 1024)} KB"


@dataclass(frozen=True)
class PreparedPhoto:
    """A checked photo, re-encoded and ready to store: the full image and its thumbnail."""

    data: bytes
    width: int
    height: int
    thumb: bytes
    thumb_width: int
    thumb_height: int
    content_type: str = CONTENT_TYPE


def _read_capped(source, max_bytes):
    """At most ``max_bytes + 1`` bytes of a FileStorage, file object or bytes (enough to see "too big")."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source[: max_bytes + 1])
    stream = getattr(source, "stream", source)
    if hasattr(stream, "seekable") and stream.seekable():
        stream.seek(0)
    return stream.read(max_bytes + 1)


def _check_pixels(size, max_pixels):
    """Refuse a picture whose header announces more pixels than we are willing to decode."""
    width, height = size
    if width <= 0 or height <= 0:
        raise UnsafeUpload(reason="type")
    if width * height > max_pixels:
        raise UnsafeUpload(_("The picture has too many pixels."), reason="too_many_pixels")


def _srgb_profile():
    """The sRGB profile, built once and reused."""
    global _SRGB
    if _SRGB is None:
        _SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return _SRGB


def _to_srgb(im):
    """Convert colours to sRGB if the file embeds a profile, since we drop the profile itself.

    Without this, wide-gamut phone photos (Display P3) would look washed out. A profile
    that lcms cannot use is ignored: the pixels are kept as they are.
    """
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "RGBA", "CMYK"):
        return im
    try:
        source = ImageCms.ImageCmsProfile(BytesIO(icc))
        return ImageCms.profileToProfile(im, source, _srgb_profile(),
                                         outputMode="RGBA" if im.mode == "RGBA" else "RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return im


def _to_rgb(im):
    """Plain 8-bit RGB; transparency is flattened onto white, 16-bit grey scaled, not clipped."""
    if im.mode.startswith("I") or im.mode == "F":
        # Pillow clips 16-bit values to 255 when converting to L: scale them down instead.
        im = im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
    if has_alpha:
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return im.convert("RGB")


def _encode(im, max_side):
    """Downscale to ``max_side`` and encode as JPEG from a fresh image that carries no metadata."""
    im = im.copy()
    im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # A new image has an empty .info: Pillow would otherwise copy e.g. a JPEG comment
    # from the source image into the output.
    clean = Image.new("RGB", im.size)
    clean.paste(im)
    out = BytesIO()
    clean.save(out, "JPEG", **JPEG_OPTIONS)
    return out.getvalue(), clean.size


def _decode(data, max_pixels, max_side):
    """Open by content, verify, check the pixel count before decoding, then decode and orient."""
    with Image.open(BytesIO(data), formats=ALLOWED_FORMATS) as probe:
        if probe.format not in ALLOWED_FORMATS:
            raise UnsafeUpload(reason="type")
        _check_pixels(probe.size, max_pixels)
        probe.verify()
    # verify() leaves the image unusable: open again for the real decode.
    with Image.open(BytesIO(data), formats=ALLOWED_FORMATS) as im:
        _check_pixels(im.size, max_pixels)
        if im.format == "JPEG":
            # Let libjpeg decode at a reduced scale when the photo is much larger than we keep.
            im.draft("RGB", (max_side, max_side))
        im.load()
        oriented = ImageOps.exif_transpose(im)
        return _to_rgb(_to_srgb(oriented))


def prepare_photo(source):
    """Check an upload entirely in memory and return it re-encoded; raise UnsafeUpload otherwise."""
    cfg = current_app.config
    max_bytes = cfg["UPLOAD_MAX_BYTES"]
    data = _read_capped(source, max_bytes)
    if not data:
        raise UnsafeUpload(_("The file is empty."), reason="empty")
    if len(data) > max_bytes:
        raise UnsafeUpload(_("The photo is too large (more than %(size)s).", size=_human_size(max_bytes)),
                           reason="too_large")
    if MARKUP.search(data):
        raise UnsafeUpload(reason="markup")
    try:
        # Pillow warns (rather than fails) between its own limit and twice that: a warning
        # is a refusal here. catch_warnings is process-wide, not per thread, so this is only
        # a backstop: our own, lower, limit is checked from the header before any decoding.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = _decode(data, cfg["UPLOAD_MAX_PIXELS"], cfg["PHOTO_MAX_SIDE"])
            full, (width, height) = _encode(image, cfg["PHOTO_MAX_SIDE"])
            thumb, (thumb_width, thumb_height) = _encode(image, cfg["THUMB_MAX_SIDE"])
    except UnsafeUpload:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnsafeUpload(_("The picture has too many pixels."), reason="too_many_pixels") from None
    except Exception:
        # Malformed input makes Pillow raise a zoo of types (OSError, SyntaxError,
        # struct.error, ValueError, IndexError...): all mean "not a photo we can read".
        raise UnsafeUpload(reason="type") from None
    return PreparedPhoto(data=full, width=width, height=height,
                         thumb=thumb, thumb_width=thumb_width, thumb_height=thumb_height)


def _is_blank(file):
    """True for the empty part a browser sends for an untouched <input type=file>."""
    if isinstance(file, (bytes, bytearray, memoryview)):
        return False
    if getattr(file, "filename", None):
        return False
    stream = getattr(file, "stream", file)
    if hasattr(stream, "seekable") and stream.seekable():
        position = stream.tell()
        empty = not stream.read(1)
        stream.seek(position)
        return empty
    return False


def _new_key():
    """A random, unguessable storage key for one JPEG."""
    return secrets.token_urlsafe(16) + ".jpg"


def attach_photos(files, owner_type, owner_id, uploader):
    """Validate every file, then store them as Photo rows of the owner (the caller commits).

    All files are checked before anything is written, so one bad file stores none; if
    writing fails halfway, the files already written are deleted again.
    """
    files = [f for f in files if f is not None and not _is_blank(f)]
    if not files:
        return []
    limit = current_app.config["PHOTOS_PER_ITEM"]
    taken = set(db.session.scalars(
        select(Photo.position).where(Photo.owner_type == owner_type, Photo.owner_id == owner_id)
    ))
    if len(taken) + len(files) > limit:
        raise UnsafeUpload(ngettext("You can add at most %(num)d photo.", "You can add at most %(num)d photos.", limit),
                           reason="too_many_photos")
    prepared = [prepare_photo(f) for f in files]

    free_positions = [p for p in range(limit) if p not in taken]
    storage = get_storage()
    written = []
    photos = []
    try:
        for position, item in zip(free_positions, prepared):
            photo = Photo(owner_type=owner_type, owner_id=owner_id, position=position,
                          storage_key=_new_key(), thumb_key=_new_key(),
                          width=item.width, height=item.height,
                          thumb_width=item.thumb_width, thumb_height=item.thumb_height,
                          size_bytes=len(item.data), content_type=item.content_type,
                          uploaded_by_id=uploader.id if uploader is not None else None)
            for key, data in ((photo.storage_key, item.data), (photo.thumb_key, item.thumb)):
                storage.save(key, data)
                written.append(key)
            db.session.add(photo)
            photos.append(photo)
        # Flush here, not at the caller's commit, so a database refusal still finds
        # `written` and cleans up the files.
        db.session.flush()
    except BaseException:
        for key in written:
            storage.delete(key)
        raise
    return photos


def photos_of(owner_type, owner_id, include_hidden=False):
    """The photos of one item in display order; hidden ones only when asked (moderators)."""
    query = select(Photo).where(Photo.owner_type == owner_type, Photo.owner_id == owner_id)
    if not include_hidden:
        query = query.where(Photo.hidden_at.is_(None))
    return list(db.session.scalars(query.order_by(Photo.position, Photo.id)))


def delete_photo(photo):
    """Remove a photo's row and both of its files (the caller commits)."""
    db.session.delete(photo)
    db.session.flush()
    storage = get_storage()
    storage.delete(photo.storage_key)
    storage.delete(photo.thumb_key)


#: owner_type -> function(owner_id) -> bool: whether the item the photos belong to is public.
#: Feature modules register theirs; a photo whose owner is hidden is not served.
OWNER_VISIBLE = {}


def register_owner_visibility(owner_type, is_visible):
    """Declare how to tell whether an owner of photos is publicly visible."""
    OWNER_VISIBLE[owner_type] = is_visible


def photo_for_key(key):
    """The visible photo of a visible item whose full image or thumbnail is under ``key``, or None."""
    photo = db.session.scalar(
        select(Photo).where(
            (Photo.storage_key == key) | (Photo.thumb_key == key),
            Photo.hidden_at.is_(None),
        )
    )
    if photo is None:
        return None
    is_visible = OWNER_VISIBLE.get(photo.owner_type)
    if is_visible is not None and not is_visible(photo.owner_id):
        return None
    return photo
