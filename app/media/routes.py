"""Routes of the media blueprint: stored photos and documents, served so a browser can only show or save them."""
from flask import abort, make_response, request
from flask_login import current_user

from app.auth.access import public
from app.media import bp
from app.media.documents import content_disposition, document_for_key
from app.media.services import photo_for_key
from app.media.storage import InvalidKey, check_key, get_storage

#: A photo is never executed, framed into anything, or sniffed into another type; its
#: key is random and its bytes never change, so caches may keep it for good.
PHOTO_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Disposition": "inline",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    # An hour, not a year: a photo hidden by moderation must drop out of caches soon.
    "Cache-Control": "public, max-age=3600",
    # Open311 clients and other sites may show our public photos in <img>.
    "Cross-Origin-Resource-Policy": "cross-origin",
}


@bp.route("/media/<key>")
@public
def photo(key):
    """A stored photo or thumbnail by its key; 404 for unknown, hidden or missing ones."""
    try:
        check_key(key)
    except InvalidKey:
        abort(404)
    found = photo_for_key(key)
    if found is None:
        abort(404)
    try:
        data = get_storage().open(key)
    except FileNotFoundError:
        abort(404)
    response = make_response(data)
    response.content_type = found.content_type
    response.headers.update(PHOTO_HEADERS)
    if current_user.is_authenticated:
        # Visibility may depend on who asks (a draft's photos are its authors'): never let a shared
        # cache keep what a signed-in person was shown.
        response.headers["Cache-Control"] = "private, max-age=3600"
    # The key names immutable content, so it is a strong ETag without hashing the bytes.
    response.set_etag(key)
    return response.make_conditional(request)


#: A document is always downloaded, never shown inline by the browser's viewer on our origin:
#: and if something opens it anyway, it runs in a sandbox with nothing allowed.
DOCUMENT_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "public, max-age=3600",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@bp.route("/media/documents/<key>")
@public
def document(key):
    """A stored PDF by its key, as a download; 404 for unknown, hidden or missing ones and for items the
    viewer may not see."""
    try:
        check_key(key)
    except InvalidKey:
        abort(404)
    found = document_for_key(key)
    if found is None:
        abort(404)
    try:
        data = get_storage().open(key)
    except FileNotFoundError:
        abort(404)
    response = make_response(data)
    response.content_type = found.content_type
    response.headers.update(DOCUMENT_HEADERS)
    response.headers["Content-Disposition"] = content_disposition(found.filename)
    if current_user.is_authenticated:
        response.headers["Cache-Control"] = "private, max-age=3600"
    response.set_etag(key)
    return response.make_conditional(request)
