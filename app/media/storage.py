"""Where photo files live: a tiny storage interface and its local-disk implementation.

Only :class:`LocalStorage` exists for now; issue 10 adds S3-compatible object storage
behind the same four methods, chosen in :func:`get_storage`, so nothing else changes.
Keys are opaque, random names chosen by the media services, never by users.
"""
import os
import re
import tempfile
from pathlib import Path

from flask import current_app

#: A key is one plain file name: URL-safe characters and dots, never starting with a dot
#: (so no "..", no hidden files, and our own ".tmp-" files can never be addressed).
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")


class InvalidKey(ValueError):
    """A storage key that could escape the storage root or name something we did not write."""


def check_key(key):
    """Return ``key`` if it is a safe file name, else raise InvalidKey."""
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise InvalidKey(f"invalid storage key: {key!r}")
    return key


class Storage:
    """The interface every storage backend implements."""

    def save(self, key, data):
        """Store ``data`` (bytes) under ``key``, replacing any previous content."""
        raise NotImplementedError

    def open(self, key):
        """The bytes stored under ``key``; FileNotFoundError if there are none."""
        raise NotImplementedError

    def delete(self, key):
        """Remove ``key``; removing a missing key is not an error."""
        raise NotImplementedError

    def exists(self, key):
        """True if something is stored under ``key``."""
        raise NotImplementedError


class LocalStorage(Storage):
    """Files in one flat directory (UPLOAD_DIR), created on the first save."""

    def __init__(self, root):
        """Remember the root; touching the disk waits until something is saved."""
        self.root = Path(root)

    def _path(self, key):
        """The file path of a validated key."""
        return self.root / check_key(key)

    def save(self, key, data):
        """Write atomically: a temp file in the same directory, fsync, then os.replace."""
        path = self._path(key)
        self.root.mkdir(parents=True, exist_ok=True)
        # Same directory, so os.replace is a rename on one filesystem: readers see the old
        # file or the whole new one, never half a photo.
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def open(self, key):
        """The stored bytes (photos are small once re-encoded)."""
        return self._path(key).read_bytes()

    def delete(self, key):
        """Unlink the file if it is there."""
        self._path(key).unlink(missing_ok=True)

    def exists(self, key):
        """True if the file is there."""
        return self._path(key).is_file()


def get_storage():
    """The storage configured for the current app (local disk under UPLOAD_DIR for now)."""
    return LocalStorage(current_app.config["UPLOAD_DIR"])
