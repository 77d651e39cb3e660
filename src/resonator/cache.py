"""The user cache folder: small JSON entries that are checked before they are trusted.

Location: ``$RESONATOR_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/resonator``, else
``~/.cache/resonator``; one subfolder per kind of entry (``mastering/``, ...). Tests point
``RESONATOR_CACHE_DIR`` at a temporary folder; set it to an empty string to turn caching off.

An entry is one JSON file named by its key (a hex digest of everything that shapes it) and
holds the key again and a SHA-256 of its payload. :func:`read_entry` returns ``None`` for a
missing, unreadable, truncated, edited or foreign file (the caller then computes the value
again and :func:`write_entry` replaces the file); nothing in the folder is trusted unchecked.
Entries are written to a temporary file and renamed, so a reader never sees half an entry,
and two writers of the same key leave one whole entry.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

__all__ = ["cache_dir", "read_entry", "write_entry", "digest"]

_FORMAT = 1


def cache_dir(kind: str) -> Path | None:
    """The folder for entries of ``kind`` (not created here), or None when caching is off
    (``RESONATOR_CACHE_DIR`` set to an empty string)."""
    override = os.environ.get("RESONATOR_CACHE_DIR")
    if override is not None:
        return Path(override) / kind if override.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or ""
    root = Path(base) if base.strip() and os.path.isabs(base) else Path.home() / ".cache"
    return root / "resonator" / kind


def digest(value) -> str:
    """A SHA-256 hex digest of a JSON-able value (keys sorted: the same value, the same
    digest in every process)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_entry(kind: str, key: str) -> dict | None:
    """The payload stored under ``key``, or None when there is none that checks out."""
    folder = cache_dir(kind)
    if folder is None:
        return None
    try:
        data = json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("format") != _FORMAT or data.get("key") != key:
        return None
    payload = data.get("payload")
    if not isinstance(payload, dict) or data.get("sha256") != digest(payload):
        return None
    return payload


def write_entry(kind: str, key: str, payload: dict) -> Path | None:
    """Store ``payload`` (JSON-able) under ``key``; return the file, or None when caching is
    off. Raises OSError when the folder cannot be written (callers treat that as a warning,
    never as a failed render)."""
    folder = cache_dir(kind)
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.json"
    tmp = folder / f".{key}.{os.getpid()}.tmp"
    text = json.dumps({"format": _FORMAT, "key": key, "sha256": digest(payload),
                       "payload": payload}, sort_keys=True, allow_nan=True)
    try:
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
    return path
