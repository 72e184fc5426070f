"""Uploaded import files waiting for their confirmation, each kept for the user who uploaded it.

The preview of an import and its confirmation are two requests; in between, the file waits here:
in a directory of its own (`IMPORT_UPLOAD_DIR`, created readable by the server's user only), never
the system's temporary folder. Each upload is `<id>.csv` beside `<id>.json` (who uploaded it, from
which session, for which import, when). The id is 32 random hex digits: the confirmation posts
only the id, and the upload is found only when the id has that form, the file exists, belongs to
the same user and session and import, and is younger than `IMPORT_UPLOAD_MAX_AGE` seconds. A name,
a path or another user's id finds nothing; nothing outside the directory is ever opened.

An upload is taken (renamed, so that a double click cannot import it twice) and deleted by the
confirmation, whatever its outcome; one never confirmed is deleted once expired, by the next upload
or by `manage.py import_uploads_clean`.
"""

import hashlib
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from shop.core.exceptions import ShopError

_ID = re.compile(r"[0-9a-f]{32}")


class UploadNotFound(ShopError):
    """No pending upload with that id for this user, session and import."""


@dataclass(frozen=True)
class PendingUpload:
    id: str
    data: bytes
    file_name: str


def upload_dir() -> Path:
    return Path(settings.IMPORT_UPLOAD_DIR)


def max_age() -> int:
    return int(settings.IMPORT_UPLOAD_MAX_AGE)


def _session_digest(session_key: str) -> str:
    # The session key itself is a credential: only its digest is written to disk.
    return hashlib.sha256(session_key.encode()).hexdigest()


def _paths(upload_id: str) -> tuple[Path, Path]:
    directory = upload_dir()
    return directory / f"{upload_id}.csv", directory / f"{upload_id}.json"


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def upload_save(*, data: bytes, user_id: int, session_key: str, kind: str, file_name: str) -> str:
    """Keep an uploaded file for its confirmation; the id to confirm it with."""
    directory = upload_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    upload_id = secrets.token_hex(16)
    data_path, meta_path = _paths(upload_id)
    meta = {
        "user": user_id,
        "session": _session_digest(session_key),
        "kind": kind,
        "file_name": file_name[:200],
        "saved_at": time.time(),
    }
    # O_EXCL: never write through a file (or a link) that is already there.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for path, content in ((data_path, data), (meta_path, json.dumps(meta).encode())):
        fd = os.open(path, flags, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(content)
    return upload_id


def _meta(upload_id: str) -> dict | None:
    _, meta_path = _paths(upload_id)
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _matches(meta: dict | None, *, user_id: int, session_key: str, kind: str) -> bool:
    return (
        meta is not None
        and meta.get("user") == user_id
        and meta.get("session") == _session_digest(session_key)
        and meta.get("kind") == kind
    )


def _expired(meta: dict, now: float) -> bool:
    saved_at = meta.get("saved_at")
    return not isinstance(saved_at, int | float) or now - saved_at > max_age()


def upload_take(*, upload_id, user_id: int, session_key: str, kind: str) -> PendingUpload:
    """The pending upload with this id, removed from the storage: it can be taken only once.

    Raises UploadNotFound for anything else: a malformed id, an unknown or expired one, another
    user's or session's upload, an upload for another import. Those are left as they are
    (except an expired one, which is deleted).
    """
    not_found = UploadNotFound(
        "This import is no longer waiting for its confirmation (it was already imported or "
        "refused, it expired, or it was not uploaded by you in this session). Upload the file again."
    )
    if not isinstance(upload_id, str) or not _ID.fullmatch(upload_id):
        raise not_found
    data_path, meta_path = _paths(upload_id)
    meta = _meta(upload_id)
    if not _matches(meta, user_id=user_id, session_key=session_key, kind=kind):
        raise not_found
    if _expired(meta, time.time()):
        _remove(data_path, meta_path)
        raise not_found
    # The rename is atomic: of two confirmations of the same upload, one gets the file.
    taken = data_path.with_name(f"{upload_id}.{secrets.token_hex(8)}.taken")
    try:
        os.rename(data_path, taken)
    except FileNotFoundError:
        raise not_found from None
    try:
        data = taken.read_bytes()
    finally:
        _remove(taken, meta_path)
    return PendingUpload(id=upload_id, data=data, file_name=meta.get("file_name", ""))


def upload_discard(*, upload_id, user_id: int, session_key: str, kind: str) -> None:
    """Delete this user's pending upload, if it is there (a newer upload replaces it)."""
    if (
        isinstance(upload_id, str)
        and _ID.fullmatch(upload_id)
        and _matches(_meta(upload_id), user_id=user_id, session_key=session_key, kind=kind)
    ):
        _remove(*_paths(upload_id))


def uploads_clean(*, now: float | None = None, everything: bool = False) -> int:
    """Delete expired uploads (all of them with `everything`) and any stray file; how many went."""
    directory = upload_dir()
    if not directory.is_dir():
        return 0
    now = time.time() if now is None else now
    removed = 0
    for path in directory.iterdir():
        upload_id = path.name.split(".", 1)[0]
        if path.suffix == ".json" and _ID.fullmatch(upload_id):
            meta = _meta(upload_id)
            if everything or meta is None or _expired(meta, now):
                data_path, meta_path = _paths(upload_id)
                removed += data_path.exists()
                _remove(data_path, meta_path)
        elif path.is_file() and (
            everything or not _ID.fullmatch(upload_id) or now - path.stat().st_mtime > max_age()
        ):
            # A file without its description (a taken file left by a crash, or anything else).
            if path.suffix == ".csv" and (directory / f"{upload_id}.json").exists() and not everything:
                continue
            _remove(path)
            removed += path.suffix == ".csv"
    return removed
