"""Reading recipe files: TOML text, key locations and ``extends``.

``tomllib`` gives no positions, so :class:`Locator` scans the text and maps key paths such as
``("layer", 1, "beat", "metta")`` to line numbers (table headers, ``key =`` lines and the keys
of inline tables on the same line). Good enough for hand-written recipes; a path that cannot be
found falls back to its longest known prefix.

Merge rules for ``extends = "base.toml"`` (a path relative to the extending file; chains are
allowed, cycles are refused):

* top-level keys and plain tables (``[temperature]``) merge key by key, recursively; a value in
  the child replaces the parent's (an inline table ``beat = {...}`` *replaces* the parent's
  value as a whole: a parameter value is one value);
* ``[[phase]]``, ``[[layer]]`` and ``[[target]]`` merge by ``name``: a child entry with a name
  the parent has overrides exactly the keys it gives (a phase's ``temperature`` table merges
  key by key); a new name is appended, or for phases placed with ``before = "name"`` or
  ``after = "name"``; targets without a name are appended;
* ``enabled = false`` on a layer (or target) removes it; ``remove = true`` on a phase removes
  the phase.
"""
from __future__ import annotations

import copy
import hashlib
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import RecipeError

#: arrays of tables that merge by name
NAMED_ARRAYS = ("phase", "layer", "target")
#: tables inside named entries that merge key by key (instead of being replaced)
MERGED_SUBTABLES = {"phase": ("temperature",)}

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*(\]\]?)\s*(#.*)?$")
_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*'))*)\s*=""")
_INLINE_KEY = re.compile(r"""[{,]\s*([A-Za-z0-9_\-]+|"[^"]*")\s*=""")


def _unquote(k: str) -> str:
    k = k.strip()
    if len(k) >= 2 and k[0] == k[-1] and k[0] in "\"'":
        return k[1:-1]
    return k


def display_path(path: Path) -> str:
    """The path as shown in messages: relative to the working folder when inside it, else
    absolute (``/dev/zero``, not ``../../dev/zero``)."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(path)
    return str(path) if rel == ".." or rel.startswith(".." + os.sep) else rel


class Locator:
    """Map key paths of one TOML text to 1-based line numbers.

    Parameters
    ----------
    text : str
        The TOML source.
    """

    def __init__(self, text: str):
        self.lines: dict[tuple, int] = {}
        counts: dict[tuple, int] = {}
        prefix: tuple = ()
        depth = 0  # open brackets of a multi-line array / inline table
        in_string = None
        for no, line in enumerate(text.splitlines(), start=1):
            if in_string:
                if in_string in line:
                    in_string = None
                continue
            if depth == 0:
                m = _HEADER.match(line)
                if m and not _KEY.match(line):
                    parts = tuple(_unquote(p) for p in m.group(2).split("."))
                    if m.group(1) == "[[":
                        idx = counts.get(parts, 0)
                        counts[parts] = idx + 1
                        prefix = parts[:-1] + (parts[-1], idx)
                    else:
                        prefix = parts
                    self.lines.setdefault(prefix, no)
                    continue
                m = _KEY.match(line)
                if m:
                    key = tuple(_unquote(p) for p in re.split(r"\s*\.\s*", m.group(1)))
                    path = prefix + key
                    self.lines.setdefault(path, no)
                    rest = line[m.end():]
                    for im in _INLINE_KEY.finditer(rest):
                        self.lines.setdefault(path + (_unquote(im.group(1)),), no)
                    for quote in ('"""', "'''"):
                        if rest.count(quote) == 1:
                            in_string = quote
                    depth += _bracket_balance(rest)
                    continue
            else:
                depth += _bracket_balance(line)
                depth = max(depth, 0)

    def line_of(self, path: tuple) -> int | None:
        """Line of ``path`` or of its longest located prefix; None when nothing matches."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return None


def _bracket_balance(text: str) -> int:
    """Net open brackets in ``text``, ignoring strings and comments (roughly)."""
    bal = 0
    quote = None
    for ch in text:
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        elif ch in "[{":
            bal += 1
        elif ch in "]}":
            bal -= 1
    return bal


@dataclass
class Source:
    """One recipe file that contributed to a loaded recipe."""

    path: Path
    text: str
    locator: Locator

    @property
    def label(self) -> str:
        return display_path(self.path)


@dataclass
class Origin:
    """Where a value came from: a source file and the key path inside that file."""

    source: Source
    path: tuple


@dataclass
class RawRecipe:
    """A recipe's merged TOML data with the origin of every key.

    Attributes
    ----------
    data : dict
        Merged top-level data; ``data["phase"]`` etc. are lists of dicts.
    origins : dict
        ``origins[key_path] -> Origin`` for top-level keys (``("title",)``) and for keys of
        named entries (``("layer", "beat", "carrier")``: section, entry name, key).
    sources : list of Source
        Every file read, the recipe itself first.
    """

    data: dict
    origins: dict = field(default_factory=dict)
    sources: list = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.sources[0].path

    def locate(self, path: tuple) -> tuple[str, int | None]:
        """``(file label, line or None)`` of a merged key path (see :attr:`origins`): the file
        that gave the key (a recipe it extends, perhaps) and its line there."""
        origin = None
        p = tuple(path)
        rest: tuple = ()
        while p:
            origin = self.origins.get(p)
            if origin is not None:
                break
            rest = p[-1:] + rest
            p = p[:-1]
        if origin is None:
            return self.sources[0].label, None
        return origin.source.label, origin.source.locator.line_of(origin.path + rest)

    def where(self, path: tuple, label: str = "") -> str:
        """``"file:line: label"`` for a merged key path (see :attr:`origins`)."""
        file, line = self.locate(path)
        head = f"{file}:{line}" if line else file
        return f"{head}: {label}" if label else head

    def sha256(self) -> str:
        """Hash of every source text (the recipe and what it extends), in order."""
        h = hashlib.sha256()
        for s in self.sources:
            h.update(s.text.encode())
        return h.hexdigest()


#: the largest recipe file read (a recipe is a few kB; this refuses a wrong file, or a device
#: such as /dev/zero, before it fills the memory)
MAX_RECIPE_BYTES = 1 << 20
#: deepest nesting of arrays and inline tables (TOML's parser is recursive)
MAX_NESTING = 100
#: the longest phase, layer or target name (names become file names, table columns)
MAX_NAME_CHARS = 100
#: the most [[phase]], [[layer]] and [[target]] tables a recipe (with what it extends) holds:
#: each layer is a graph with its own block buffers (about 3 MB at 96 kHz), so memory grows
#: with their number; SBaGen plays 16 voices at most
MAX_ENTRIES = {"phase": 10000, "layer": 128, "target": 50000}


def read_source(path: Path) -> tuple[Source, dict]:
    """Read and parse one TOML file; RecipeError with the line on syntax errors.

    Only regular files up to :data:`MAX_RECIPE_BYTES` are read: a folder, a device or a pipe
    is refused by name.
    """
    where = display_path(path)
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise RecipeError("is not a recipe file (a device, pipe or socket); give a "
                                  ".toml file", where)
            raw = f.read(MAX_RECIPE_BYTES + 1)
    except FileNotFoundError:
        raise RecipeError("no such recipe file", where) from None
    except IsADirectoryError:
        raise RecipeError("is a folder, not a recipe file", where) from None
    except OSError as exc:
        raise RecipeError(f"cannot read the recipe ({exc.strerror or exc})", where) from None
    if len(raw) > MAX_RECIPE_BYTES:
        raise RecipeError(f"is larger than {MAX_RECIPE_BYTES // 1024} kB: not a recipe (recipes "
                          "are a few kB of TOML)", where)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecipeError(f"is not UTF-8 text (byte {exc.start}): recipes are TOML text",
                          where) from None
    return _parse_text(text, path)


def _too_deep(text: str, limit: int) -> int | None:
    """The line where brackets outside strings and comments first nest deeper than ``limit``
    (roughly, as :func:`_bracket_balance`), or None: what would overflow the recursive TOML
    parser is refused with its place."""
    depth = 0
    line = 1
    quote = None
    comment = False
    for ch in text:
        if ch == "\n":
            line += 1
            comment = False
            quote = None if quote in ("\"", "'") else quote
            continue
        if comment:
            continue
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch == "#":
            comment = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return line
        elif ch in "]}":
            depth = max(depth - 1, 0)
    return None


def _parse_text(text: str, path: Path) -> tuple[Source, dict]:
    deep = _too_deep(text, MAX_NESTING)
    if deep is not None:
        raise RecipeError(f"arrays or tables nested more than {MAX_NESTING} deep: not a "
                          "recipe", f"{display_path(path)}:{deep}")
    try:
        data = tomllib.loads(text)
    except RecursionError:  # a nesting the scan above did not see (inside odd quoting)
        raise RecipeError("arrays or tables nested too deep: not a recipe",
                          display_path(path)) from None
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        where = display_path(path) + (f":{m.group(1)}" if m else "")
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        raise RecipeError(f"not valid TOML: {msg}", where) from None
    return Source(path, text, Locator(text)), data


def _origins_of(data: dict, source: Source) -> dict:
    """Origins for every top-level key and every key of named entries of one file."""
    out: dict = {}
    for key, value in data.items():
        if key in NAMED_ARRAYS and isinstance(value, list):
            for i, entry in enumerate(value):
                if not isinstance(entry, dict):
                    continue
                name = _entry_name(key, entry, i)
                out[(key, name)] = Origin(source, (key, i))
                for k in entry:
                    out[(key, name, k)] = Origin(source, (key, i, k))
        else:
            out[(key,)] = Origin(source, (key,))
    return out


def _entry_name(section: str, entry: dict, index: int) -> str:
    name = entry.get("name")
    return name if isinstance(name, str) else f"#{index + 1}"


def load_raw(path, *, text: str | None = None, _chain: tuple = ()) -> RawRecipe:
    """Read a recipe file and everything it extends, merged (see the module docstring).

    Parameters
    ----------
    path : str or Path
        The recipe file.
    text : str, optional
        The recipe's text, used instead of reading ``path`` (an editor's unsaved text; the
        files it extends are read from disk, relative to ``path``).

    Returns
    -------
    RawRecipe

    Raises
    ------
    RecipeError
        Missing file, TOML syntax error, circular or missing ``extends``, malformed entries.
    """
    path = Path(path).resolve()
    if path in _chain:
        cycle = " -> ".join(display_path(p) for p in _chain + (path,))
        raise RecipeError(f"circular extends: {cycle}; a recipe must not extend itself "
                          "directly or through others", display_path(_chain[-1]))
    source, data = read_source(path) if text is None else _parse_text(text, path)
    _check_named_arrays(data, source)
    _check_counts(data, source)
    own = RawRecipe(data, _origins_of(data, source), [source])
    parent_ref = data.get("extends")
    if parent_ref is None:
        return own
    line = source.locator.line_of(("extends",))
    where = f"{source.label}:{line}: extends" if line else f"{source.label}: extends"
    parent_path = _extends_path(parent_ref, path, where)
    parent = load_raw(parent_path, _chain=_chain + (path,))
    merged = merge(parent, own)
    _check_counts(merged.data, source)
    return merged


def _check_counts(data: dict, source: Source) -> None:
    """Refuse more tables than :data:`MAX_ENTRIES` allows (after ``extends`` is merged)."""
    for key, most in MAX_ENTRIES.items():
        entries = data.get(key)
        if isinstance(entries, list) and len(entries) > most:
            line = source.locator.line_of((key, most))
            raise RecipeError(f"{len(entries)} [[{key}]] tables; a recipe may hold at most "
                              f"{most}", f"{source.label}:{line}: {key} #{most + 1}" if line
                              else f"{source.label}: {key}")


def raw_from_text(text: str, path, *, lines: bool = True) -> RawRecipe:
    """A recipe's data from TOML text that is not (yet) a file, such as a converted SBaGen
    sequence: ``path`` names it in messages and relative paths resolve beside it; no
    ``extends``.

    Parameters
    ----------
    text : str
        TOML recipe text.
    path : str or Path
    lines : bool
        Messages cite lines of ``text``; False when ``path`` holds another text (a converted
        ``.sbg``: its lines are not the converted text's), so messages name places only.

    Returns
    -------
    RawRecipe

    Raises
    ------
    RecipeError
        TOML syntax errors and malformed ``[[phase]]``/``[[layer]]``/``[[target]]`` entries.
    """
    source, data = _parse_text(text, Path(path).resolve())
    if not lines:
        source.locator = Locator("")
    _check_named_arrays(data, source)
    _check_counts(data, source)
    return RawRecipe(data, _origins_of(data, source), [source])


def _extends_path(ref, path: Path, where: str) -> Path:
    """The file ``extends = ref`` names (relative to ``path``), or RecipeError saying what is
    wrong with it."""
    usage = 'extends must be the path of another recipe (a string such as "mettannealing.toml")'
    if not isinstance(ref, str) or not ref.strip():
        raise RecipeError(f"{usage}, got {_kind_of(ref)}", where)
    if "\x00" in ref or len(ref) > 4096 or any(len(p) > 255 for p in ref.split("/")):
        raise RecipeError(f"{usage}; this one has a NUL character or a name longer than a file "
                          "system allows", where)
    try:
        parent = (path.parent / ref).resolve()
        exists = parent.exists()
    except (OSError, RuntimeError) as exc:  # a link loop, a name too long for this system
        raise RecipeError(f'the recipe to extend "{ref}" cannot be found ({exc})', where) \
            from None
    if not exists:
        raise RecipeError(f'the recipe to extend "{ref}" does not exist (looked for '
                          f"{display_path(parent)}); the path is relative to this file", where)
    if parent.is_dir():
        raise RecipeError(f'extends = "{ref}" names a folder ({display_path(parent)}), not a '
                          "recipe file", where)
    if not parent.is_file():
        raise RecipeError(f'extends = "{ref}" names {display_path(parent)}, which is not a '
                          "recipe file (a device, pipe or socket)", where)
    return parent


def _kind_of(value) -> str:
    """A value as messages name it: ``a table``, ``a list``, or the value quoted."""
    from ..units import quote

    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return quote(value)


def _check_named_arrays(data: dict, source: Source) -> None:
    for key in NAMED_ARRAYS:
        if key not in data:
            continue
        value = data[key]
        line = source.locator.line_of((key,))
        where = f"{source.label}:{line}: {key}" if line else f"{source.label}: {key}"
        if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
            raise RecipeError(f"{key} must be written as [[{key}]] tables", where)
        seen = set()
        for i, entry in enumerate(value):
            for flag in ("enabled", "remove"):
                if flag in entry and not isinstance(entry[flag], bool):
                    w = source.locator.line_of((key, i, flag))
                    raise RecipeError(f"{flag} must be true or false, got "
                                      f"{_kind_of(entry[flag])}",
                                      f"{source.label}:{w}: {key} #{i + 1} > {flag}")
            name = entry.get("name")
            if name is None:
                if key == "target":
                    continue
                w = source.locator.line_of((key, i))
                raise RecipeError(f'every [[{key}]] needs a name = "..." (entry {i + 1} has '
                                  "none)", f"{source.label}:{w}: {key} #{i + 1}")
            if not isinstance(name, str) or not name.strip():
                w = source.locator.line_of((key, i, "name"))
                raise RecipeError(f"a {key} name must be a non-empty string, got {name!r}",
                                  f"{source.label}:{w}: {key} #{i + 1} > name")
            if not name.isprintable() or len(name) > MAX_NAME_CHARS:
                w = source.locator.line_of((key, i, "name"))
                raise RecipeError(f"a {key} name must be printable text of at most "
                                  f"{MAX_NAME_CHARS} characters (no control characters), got "
                                  f"{name[:40]!r}" + ("..." if len(name) > 40 else ""),
                                  f"{source.label}:{w}: {key} #{i + 1} > name")
            if name in seen:
                w = source.locator.line_of((key, i, "name"))
                raise RecipeError(f'two [[{key}]] tables are named "{name}": names must be '
                                  f"unique (a [[{key}]] with the same name in a recipe that "
                                  "extends another overrides it)",
                                  f"{source.label}:{w}: {key} \"{name}\"")
            seen.add(name)


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k not in ("__values__",):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def merge(parent: RawRecipe, child: RawRecipe) -> RawRecipe:
    """Merge a child recipe over its parent (rules in the module docstring)."""
    data = {k: copy.deepcopy(v) for k, v in parent.data.items() if k != "extends"}
    origins = dict(parent.origins)
    origins.pop(("extends",), None)
    for key, value in child.data.items():
        if key == "extends":
            origins[(key,)] = child.origins[(key,)]
            continue
        if key in NAMED_ARRAYS:
            data[key] = _merge_named(key, data.get(key, []), value, origins, child)
            continue
        if key == "temperature" and isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = _deep_merge(data[key], value)
        else:
            data[key] = copy.deepcopy(value)
        origins[(key,)] = child.origins[(key,)]
    return RawRecipe(data, origins, child.sources + parent.sources)


def _merge_named(section: str, base: list, over: list, origins: dict, child: RawRecipe
                 ) -> list:
    out = [dict(e) for e in base]
    index = {e.get("name"): i for i, e in enumerate(out) if isinstance(e.get("name"), str)}
    for i, entry in enumerate(over):
        name = _entry_name(section, entry, i)
        removed = (entry.get("enabled") is False and section != "phase") or \
            (section == "phase" and entry.get("remove") is True)
        if name in index and isinstance(entry.get("name"), str):
            j = index[name]
            if removed:
                out[j] = None
                continue
            merged = dict(out[j])
            for k, v in entry.items():
                if k in MERGED_SUBTABLES.get(section, ()) and isinstance(v, dict) and \
                        isinstance(merged.get(k), dict):
                    merged[k] = _deep_merge(merged[k], v)
                else:
                    merged[k] = copy.deepcopy(v)
                origins[(section, name, k)] = child.origins[(section, name, k)]
            out[j] = merged
            continue
        if removed:
            continue
        new = copy.deepcopy(entry)
        pos = len(out)
        if section == "phase" and ("before" in entry or "after" in entry):
            ref = entry.get("before", entry.get("after"))
            key = "before" if "before" in entry else "after"
            if ref not in index or out[index[ref]] is None:
                where = child.where((section, name, key), f'phase "{name}" > {key}')
                known = [e["name"] for e in out if e is not None]
                raise RecipeError(f'no phase "{ref}" to place this phase {key}: phases are '
                                  f"{', '.join(known)}", where)
            pos = index[ref] + (1 if key == "after" else 0)
        out.insert(pos, new)
        index = {e.get("name"): k for k, e in enumerate(out)
                 if e is not None and isinstance(e.get("name"), str)}
        origins[(section, name)] = child.origins[(section, name)]
        for k in entry:
            origins[(section, name, k)] = child.origins[(section, name, k)]
    return [e for e in out if e is not None]
