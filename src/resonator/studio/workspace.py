"""The folder a studio serves: confined paths, listing, reading, exact saves, copy-on-write.

Every path a page sends is relative to the studio's folder and is refused when it is absolute,
climbs with ``..``, or resolves (symlinks followed) outside the folder. Nothing is ever written
outside the folder. Started without a folder, the studio shows the shipped recipes read-only
and writes into the user folder (:func:`user_recipes_dir`): the first save of a shipped recipe
copies it there (copy-on-write), with the shipped recipes it ``extends`` and the music it
reads.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path, PurePosixPath

from .. import outputs
from ..errors import ResonatorError

RECIPE_SUFFIXES = (".toml", ".sbg")
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
#: largest recipe text the studio reads or saves (bytes, UTF-8)
MAX_TEXT_BYTES = 1 << 20
#: folders never listed (besides hidden ones)
SKIP_DIRS = {"node_modules", "__pycache__", "venv", "site-packages"}
MAX_DEPTH = 4
MAX_ENTRIES = 2000

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,99}$")


class StudioPathError(ResonatorError):
    """A path from the page that is refused (outside the folder, absolute, missing, ...).

    ``status`` is the HTTP status the server answers with (403 refused, 404 missing, 400
    malformed).
    """

    def __init__(self, message: str, where: str | None = None, *, status: int = 403):
        super().__init__(message, where)
        self.status = status


class ChangedOnDisk(ResonatorError):
    """The file changed on disk since the page read it (the save would lose those changes)."""


def sha256_text(text: str) -> str:
    """The hash the studio uses to tell versions of a text apart (UTF-8 bytes)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def user_recipes_dir() -> Path:
    """Where ``resonator studio`` without a folder keeps edited copies of shipped recipes:
    ``$XDG_DATA_HOME/resonator/recipes`` (default ``~/.local/share/resonator/recipes``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "resonator" / "recipes"


def shipped_recipes_dir() -> Path | None:
    """The folder of the recipes that ship with resonator, or None when it cannot be found.

    Package data (``resonator/recipes``) when installed that way, else the ``recipes`` folder
    of the source tree the package runs from.
    """
    from ..shipped import recipes_dir

    d = recipes_dir()
    return d if d.is_dir() and any(d.glob("*.toml")) else None


def write_exactly(path: Path, text: str) -> None:
    """Write ``text`` as its UTF-8 bytes, exactly (no newline translation), replacing ``path``
    atomically (:func:`resonator.outputs.atomic_open`: nothing half-written, whatever stops
    the write)."""
    with outputs.atomic_open(path, "wb") as f:
        f.write(text.encode("utf-8"))


class Workspace:
    """The files a studio may read and write.

    Parameters
    ----------
    root : Path
        The folder the studio was started on: every write goes inside it.
    shipped : Path, optional
        A read-only folder whose recipes show through where ``root`` has no file of the same
        name (the shipped recipes when the studio starts without a folder); saving one writes
        a copy into ``root``.
    """

    def __init__(self, root, *, shipped=None):
        self.root = Path(root).resolve()
        self.shipped = Path(shipped).resolve() if shipped is not None else None

    # ------------------------------------------------------------------ paths
    def _rel(self, rel) -> PurePosixPath:
        if not isinstance(rel, str) or not rel.strip():
            raise StudioPathError("a file path is needed", status=400)
        if len(rel) > 1024 or "\x00" in rel or "\\" in rel:
            raise StudioPathError(f"{rel[:80]!r} is not an acceptable file name")
        p = PurePosixPath(rel)
        if p.is_absolute() or re.match(r"^[A-Za-z]:", rel):
            raise StudioPathError(f"{rel}: absolute paths are refused; give a path inside the "
                                  "studio's folder")
        if any(part == ".." for part in p.parts):
            raise StudioPathError(f"{rel}: '..' is refused; give a path inside the studio's "
                                  "folder")
        return p

    def _inside(self, base: Path, p: PurePosixPath) -> Path:
        full = (base / p).resolve()
        if full != base and base not in full.parents:
            raise StudioPathError(f"{p}: refused, it leads outside the studio's folder "
                                  "(a symbolic link?)")
        return full

    def resolve(self, rel: str, *, must_exist: bool = True) -> Path:
        """The real path of ``rel`` inside the folder, else in the shipped folder (read-only),
        else (not ``must_exist``) where it would be in the folder.

        Raises
        ------
        StudioPathError
            Absolute, ``..``, a symlink leading out, or (``must_exist``) no such file.
        """
        p = self._rel(rel)
        full = self._inside(self.root, p)
        if full.exists():
            if must_exist and not full.is_file():
                raise StudioPathError(f"{rel}: not a file")
            return full
        if self.shipped is not None:
            ship = self._inside(self.shipped, p)
            if ship.is_file():
                return ship
        if not must_exist:
            return full
        raise StudioPathError(f"{rel}: no such file in the studio's folder", status=404)

    def writable_path(self, rel: str) -> Path:
        """The real path ``rel`` is written to: always inside ``root``; its folder must exist."""
        full = self._inside(self.root, self._rel(rel))
        if not full.parent.is_dir():
            raise StudioPathError(f"{rel}: the folder {full.parent.name} does not exist")
        if full.exists() and not full.is_file():
            raise StudioPathError(f"{rel}: not a file")
        return full

    def is_shipped(self, path: Path) -> bool:
        return self.shipped is not None and self.shipped in path.parents

    def relative(self, path: Path) -> str:
        """``path`` (inside the folder or the shipped folder) as the page names it."""
        path = Path(path).resolve()
        for base in (self.root, self.shipped):
            if base is not None and (path == base or base in path.parents):
                return path.relative_to(base).as_posix()
        raise StudioPathError(f"{path}: outside the studio's folder")

    # ------------------------------------------------------------------ listing
    def _walk(self, base: Path, suffixes) -> list[str]:
        out: list[str] = []

        def walk(folder: Path, depth: int):
            try:
                items = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                return
            for e in items:
                if e.name.startswith(".") or len(out) >= MAX_ENTRIES:
                    continue
                path = Path(e.path)
                try:
                    real = path.resolve()
                except OSError:
                    continue
                if real != base and base not in real.parents:
                    continue  # a symlink leading out is not shown (and refused if asked for)
                if e.is_dir():
                    if depth < MAX_DEPTH and e.name not in SKIP_DIRS:
                        walk(path, depth + 1)
                elif e.is_file() and path.suffix.lower() in suffixes:
                    out.append(path.relative_to(base).as_posix())
        walk(base, 0)
        return out

    def entries(self) -> list[dict]:
        """Recipes (``.toml``) and SBaGen sequences (``.sbg``) in the folder, sorted, each
        ``{"path", "kind": "recipe"|"sbg", "shipped": bool}`` (shipped: not yet copied)."""
        own = self._walk(self.root, RECIPE_SUFFIXES)
        seen = set(own)
        items = [(p, False) for p in own]
        if self.shipped is not None:
            items += [(p, True) for p in self._walk(self.shipped, RECIPE_SUFFIXES)
                      if p not in seen]
        return [{"path": p, "kind": "sbg" if p.lower().endswith(".sbg") else "recipe",
                 "shipped": s} for p, s in sorted(items)]

    def audio_files(self) -> list[str]:
        """Audio files (WAV, FLAC, OGG, MP3) in the folder, for checking."""
        return self._walk(self.root, AUDIO_SUFFIXES)

    # ------------------------------------------------------------------ reading and writing
    def read(self, rel: str) -> dict:
        """``{"path", "text", "sha256", "shipped"}`` of a recipe or sequence file."""
        path = self.resolve(rel)
        if path.suffix.lower() not in RECIPE_SUFFIXES:
            raise StudioPathError(f"{rel}: only recipes (.toml) and sequences (.sbg) open in "
                                  "the editor")
        if path.stat().st_size > MAX_TEXT_BYTES:
            raise StudioPathError(f"{rel}: larger than {MAX_TEXT_BYTES >> 10} KiB, too large "
                                  "for a recipe")
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StudioPathError(f"{rel}: not UTF-8 text ({exc.reason} at byte {exc.start})") \
                from None
        return {"path": rel, "text": text, "sha256": sha256_text(text),
                "shipped": self.is_shipped(path)}

    def save(self, rel: str, text: str, *, base_sha256: str | None = None) -> dict:
        """Write exactly ``text`` (UTF-8) to ``rel`` inside the folder, atomically.

        Parameters
        ----------
        rel : str
            Path relative to the folder; a shipped recipe is saved as a copy in the folder
            (with the shipped recipes it extends and the music it reads, where the folder
            has none of that name).
        text : str
            The whole file, byte for byte (line endings and comments as given).
        base_sha256 : str, optional
            :func:`sha256_text` of the text the editor started from: when the file on disk
            differs from it, nothing is written (:class:`ChangedOnDisk`).

        Returns
        -------
        dict
            ``{"path", "sha256", "copied": [paths copied from the shipped recipes]}``.
        """
        if not isinstance(text, str):
            raise StudioPathError("the text to save must be a string")
        if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
            raise StudioPathError(f"{rel}: larger than {MAX_TEXT_BYTES >> 10} KiB, too large "
                                  "for a recipe")
        if PurePosixPath(rel).suffix.lower() not in RECIPE_SUFFIXES:
            raise StudioPathError(f"{rel}: the studio saves recipes (.toml) and sequences "
                                  "(.sbg) only")
        target = self.writable_path(rel)
        source = None
        try:
            source = self.resolve(rel)
        except StudioPathError:
            pass
        if base_sha256 is not None and source is not None:
            current = sha256_text(source.read_bytes().decode("utf-8", "replace"))
            if current != base_sha256:
                raise ChangedOnDisk(f"{rel} changed on disk since it was opened; reload it "
                                    "(or save under another name) to keep both versions")
        copied = []
        if source is not None and self.is_shipped(source):
            copied = self._copy_needs(source)
        write_exactly(target, text)
        return {"path": rel, "sha256": sha256_text(text), "copied": copied}

    def _copy_needs(self, shipped_file: Path) -> list[str]:
        """Copy what a shipped recipe needs besides itself (the recipes it extends, the music
        it reads: :func:`resonator.shipped.files_of`) into the folder where it has none, so
        the copy still finds them; returns their paths as the page names them."""
        from .. import shipped

        copied = []
        for f in shipped.files_of(shipped_file.stem)[1:]:
            rel = f.relative_to(self.shipped).as_posix()
            dest = self._inside(self.root, PurePosixPath(rel))
            if dest.exists():
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            with outputs.atomic_open(dest, "wb") as out:
                out.write(f.read_bytes())
            copied.append(rel)
        return copied

    def new_name(self, name: str) -> tuple[str, Path]:
        """A free ``.toml`` name in the folder (``.toml`` added when missing) and its path."""
        if not isinstance(name, str) or not _NAME.match(name.strip()):
            raise StudioPathError("a recipe name uses letters, digits, spaces, '_', '-' and "
                                  "'.', and starts with a letter or digit")
        name = name.strip()
        if not name.lower().endswith(".toml"):
            name += ".toml"
        path = self.writable_path(name)
        if path.exists() or (self.shipped is not None and (self.shipped / name).exists()):
            raise StudioPathError(f"{name} exists already: choose another name")
        return name, path

    def create(self, name: str, *, template: str | None = None) -> dict:
        """A new recipe ``name`` in the folder: a copy of the recipe ``template`` (a path the
        page lists) or, without one, of the starter recipe; refused when the name is taken.

        Returns ``{"path", "sha256", "copied"}`` as :meth:`save`.
        """
        rel, path = self.new_name(name)
        if template:
            src = self.resolve(template)
            text = self.read(template)["text"]
            copied = self._copy_needs(src) if self.is_shipped(src) else []
        else:
            text = STARTER.read_text(encoding="utf-8")
            copied = []
        write_exactly(path, text)
        return {"path": rel, "sha256": sha256_text(text), "copied": copied}

    def import_sbg(self, rel: str, name: str | None = None) -> dict:
        """Convert the SBaGen sequence ``rel`` to a recipe ``name`` (default: the sequence's
        name with ``.toml``) in the folder, as ``resonator import`` does.

        Returns ``{"path", "sha256", "messages"}`` (the converter's notes).
        """
        from ..sbg.convert import convert_file, recipe_from_conversion

        src = self.resolve(rel)
        if src.suffix.lower() != ".sbg":
            raise StudioPathError(f"{rel}: not an SBaGen sequence (.sbg)")
        conv = convert_file(src)
        recipe_from_conversion(conv)  # validates before anything is written
        target = name or PurePosixPath(rel).with_suffix(".toml").as_posix()
        rel_out, path = self.new_name(target) if "/" not in target else \
            (target, self.writable_path(target))
        if path.exists():
            raise StudioPathError(f"{rel_out} exists already: choose another name")
        write_exactly(path, conv.toml)
        return {"path": rel_out, "sha256": sha256_text(conv.toml),
                "messages": conv.messages()}


STARTER = Path(__file__).resolve().parent / "starter.toml"
