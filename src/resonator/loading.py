"""One entry point for session files: :func:`load` a TOML recipe or an SBaGen sequence.

>>> from resonator.loading import load
>>> recipe = load("recipes/mettannealing.toml")        # doctest: +SKIP
>>> recipe = load("ts-brain-alpha.sbg", stereo_noise=True)   # doctest: +SKIP (converted)

Every command that reads a session (render, plan, check, play, studio, sweep) calls
:func:`load`; the formats below it do not know about each other: :mod:`resonator.recipe`
reads TOML only and :mod:`resonator.sbg` converts sequences into recipe text. A format is one
entry of :data:`FORMATS` (suffix, description, reader).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .errors import RecipeError

if TYPE_CHECKING:  # (the recipe model imports the signal graph)
    from .recipe.model import Recipe

__all__ = ["FORMATS", "SessionFormat", "load"]


@dataclass(frozen=True)
class SessionFormat:
    """A kind of session file :func:`load` reads.

    Attributes
    ----------
    suffix : str
        File name ending, lower case with the dot (``".sbg"``).
    doc : str
        One line for messages and ``--help``.
    read : callable(path, stereo_noise: bool) -> Recipe
    """

    suffix: str
    doc: str
    read: Callable[[Path, bool], "Recipe"]


def _read_toml(path: Path, stereo_noise: bool) -> "Recipe":
    from .recipe.model import load_recipe

    if stereo_noise:
        raise RecipeError("stereo_noise (--stereo-noise) applies to SBaGen sequences (.sbg) "
                          "only; a recipe sets its noise layers' stereo key", str(path))
    return load_recipe(path)


def _read_sbg(path: Path, stereo_noise: bool) -> "Recipe":
    from .sbg.convert import load_sbg_recipe

    return load_sbg_recipe(path, stereo_noise=stereo_noise)


#: the session formats by suffix; any other suffix is read as a TOML recipe
FORMATS: dict[str, SessionFormat] = {
    ".toml": SessionFormat(".toml", "resonator recipe (TOML)", _read_toml),
    ".sbg": SessionFormat(".sbg", "SBaGen sequence, converted to a recipe", _read_sbg),
}


def load(path: str | os.PathLike, *, stereo_noise: bool = False) -> "Recipe":
    """Read a session file into a validated :class:`~resonator.recipe.model.Recipe`.

    Parameters
    ----------
    path : str or path-like
        A TOML recipe (``.toml``, or any other suffix), the name of a shipped recipe
        (``"focus"``: :mod:`resonator.shipped`, used when no such file exists) or an SBaGen
        sequence (``.sbg``,
        converted by :func:`resonator.sbg.convert.load_sbg_recipe`; the recipe's
        ``origin`` then holds the conversion and its ``warnings`` start with what could not
        be mapped).
    stereo_noise : bool
        ``.sbg`` only: independent noise per ear (SBaGen plays the same noise in both).

    Returns
    -------
    Recipe

    Raises
    ------
    RecipeError
        One line naming the file and the place: a missing file, a syntax error, a value out
        of range, ``stereo_noise`` for a TOML recipe.
    """
    from .shipped import resolve

    p = resolve(path)  # a shipped recipe's name ("focus") when no such file exists
    fmt = FORMATS.get(p.suffix.lower(), FORMATS[".toml"])
    return fmt.read(p, bool(stereo_noise))
