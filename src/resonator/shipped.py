"""The recipes that ship with resonator (package data), found by name.

They live in the package (``resonator/recipes``; in the source tree ``src/resonator/recipes``
is a link to the repository's top-level ``recipes/`` folder), so every installation has them:

>>> from resonator import shipped
>>> [r.name for r in shipped.list_recipes()][:2]          # doctest: +SKIP
['focus', 'gamma-40']
>>> shipped.find("focus")                                # doctest: +SKIP
PosixPath('.../site-packages/resonator/recipes/focus.toml')

:func:`resolve` is what lets ``resonator render focus`` (and every command that reads a session
through :func:`resonator.loading.load`) take a shipped recipe by name: an existing path always
wins, a bare name (no folder, no suffix or ``.toml``) that is not a file is looked up here.
:func:`copy_recipe` copies one out to edit, with the recipes it extends and the files it reads.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import RecipeError

__all__ = ["ShippedRecipe", "recipes_dir", "list_recipes", "names", "find", "require",
           "resolve", "files_of", "copy_recipe"]


@dataclass(frozen=True)
class ShippedRecipe:
    """One shipped recipe: its name (the file stem), file, title and first description line."""

    name: str
    path: Path
    title: str
    description: str


def recipes_dir() -> Path:
    """The folder of the shipped recipes (inside the installed package; links resolved)."""
    return (Path(__file__).resolve().parent / "recipes").resolve()


def names() -> list[str]:
    """The shipped recipes' names, sorted."""
    d = recipes_dir()
    return sorted(p.stem for p in d.glob("*.toml")) if d.is_dir() else []


def list_recipes() -> list[ShippedRecipe]:
    """Every shipped recipe with its title and the first line of its description (read from
    the TOML text only: no validation, no audio libraries imported)."""
    out = []
    for name in names():
        path = recipes_dir() / f"{name}.toml"
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = {}
        title = data.get("title") if isinstance(data.get("title"), str) else name
        desc = data.get("description") if isinstance(data.get("description"), str) else ""
        if not desc and isinstance(data.get("extends"), str):
            desc = f"(a variant of {Path(data['extends']).stem})"
        out.append(ShippedRecipe(name, path, title, desc.strip().splitlines()[0] if desc.strip()
                                 else ""))
    return out


def find(name: str) -> Path | None:
    """The shipped recipe ``name`` (``"focus"`` or ``"focus.toml"``), or None."""
    stem = name[:-5] if name.lower().endswith(".toml") else name
    if not stem or os.sep in stem or "/" in stem or stem.startswith("."):
        return None
    path = recipes_dir() / f"{stem}.toml"
    return path if path.is_file() else None


def require(name: str, where: str | None = None) -> Path:
    """:func:`find`, or RecipeError naming the shipped recipes (with a "did you mean")."""
    path = find(name)
    if path is None:
        from .units import did_you_mean

        did = did_you_mean(name, names())
        raise RecipeError(f"no shipped recipe is named \"{name}\"{did or ';'} shipped: "
                          f"{', '.join(names())}", where)
    return path


def resolve(path) -> Path:
    """``path`` itself when it exists or has a folder part or another suffix; else the
    shipped recipe of that name (``"focus"``, ``"focus.toml"``).

    Raises
    ------
    RecipeError
        A bare name that is neither a file nor a shipped recipe (the message lists them).
    """
    p = Path(os.fspath(path))
    if p.exists() or len(p.parts) != 1 or p.suffix.lower() not in ("", ".toml"):
        return p
    found = find(p.name)
    if found is None:
        from .units import did_you_mean

        stem = p.name[:-5] if p.suffix.lower() == ".toml" else p.name
        did = did_you_mean(stem, names())
        raise RecipeError(f"no such recipe file, and no shipped recipe of that name{did or ';'} "
                          f"shipped: {', '.join(names())} ('resonator recipes' lists them)",
                          str(p))
    return found


def files_of(name: str) -> list[Path]:
    """The shipped files recipe ``name`` needs: itself, the recipes it extends, and the files
    its layers read that ship with it (music beds), each once, the recipe first."""
    from .loading import load
    from .recipe.render import recipe_inputs

    path = require(name)
    base = recipes_dir()
    out = []
    for f in recipe_inputs(load(path)):
        f = Path(os.path.normpath(f))
        if base in f.parents and f.is_file() and f not in out:
            out.append(f)
        elif base in f.parents and f.is_dir():
            out.extend(x for x in sorted(f.rglob("*")) if x.is_file() and x not in out)
    return out


def copy_recipe(name: str, dest=None, *, force: bool = False) -> list[Path]:
    """Copy shipped recipe ``name`` to edit it, with everything it needs.

    Parameters
    ----------
    name : str
        A shipped recipe (:func:`names`).
    dest : path, optional
        A folder (default: the working folder) or, when it ends in ``.toml``, the new file's
        name (the recipes it extends keep their names beside it).
    force : bool
        Replace existing files (never one of the shipped files themselves).

    Returns
    -------
    list of Path
        The recipe's copy first, then the files it needs (those already there with the same
        content are left as they are).

    Raises
    ------
    RecipeError
        Unknown name.
    OutputError, OutputExistsError
        Before anything is copied, when a destination cannot be written.
    """
    from .outputs import AtomicFile, check_output

    files = files_of(name)
    dest = Path(".") if dest is None else Path(os.fspath(dest))
    if dest.suffix.lower() == ".toml" and not dest.is_dir():
        folder, first = dest.parent, dest.name
    else:
        folder, first = dest, None
    base = recipes_dir()
    targets = []
    for i, f in enumerate(files):
        rel = f.relative_to(base)
        targets.append(folder / (first if i == 0 and first else rel))
    done: list[Path] = []
    todo = []
    for f, t in zip(files, targets):
        if t.is_file() and t.read_bytes() == f.read_bytes():
            continue  # already there, the same (a parent copied with another variant)
        check_output(t, option="copy", inputs=files, others=done, force=force,
                     make_parents=t.parent != folder)
        done.append(t)
        todo.append((f, t))
    for f, t in todo:
        with AtomicFile(t) as af:
            af.open("wb").write(f.read_bytes())
    return targets
