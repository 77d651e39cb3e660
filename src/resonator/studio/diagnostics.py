"""Diagnostics of an editor's text: resonator's own messages at their lines, and the plan.

:func:`diagnose` validates the text exactly as ``resonator plan`` / ``render`` would validate
the saved file (the same loader, the same messages: what the command line prints after
``error:`` or ``warning:``), places each message at the line it names, and returns the plan
and the timeline's curves when the text is valid.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

from ..errors import ResonatorError

_WHERE = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::|$)")
_FILE = re.compile(r"^(?P<file>[^:\s][^:]*): ")  # a message about a whole file


def load_text(path, text: str):
    """Validate ``text`` as the content of ``path`` (a ``.toml`` recipe or an ``.sbg``
    sequence) without writing it; files it extends or names are read relative to ``path``.
    The text counterpart of :func:`resonator.loading.load`.

    Returns
    -------
    Recipe

    Raises
    ------
    ResonatorError
        The message ``resonator plan`` prints for the same file content.
    """
    from ..recipe.loader import display_path, load_raw

    path = Path(path).resolve()
    if path.suffix.lower() == ".sbg":
        from ..sbg.convert import convert_sequence, recipe_from_conversion
        from ..sbg.parser import parse_sbg

        seq = parse_sbg(text, path=display_path(path))
        return recipe_from_conversion(convert_sequence(seq))
    from ..recipe.model import parse_recipe

    return parse_recipe(load_raw(path, text=text))


def locate(message: str, path, text: str) -> int | None:
    """The 1-based line of ``text`` a message is about, or None.

    Messages start with ``FILE:LINE:`` (:class:`~resonator.errors.ResonatorError`'s ``where``).
    A message about another file (a recipe this one extends) is placed on the ``extends``
    line.
    """
    from ..recipe.loader import display_path

    m = _WHERE.match(message)
    if not m:
        return None
    path = Path(path).resolve()
    if m.group("file") in (display_path(path), str(path)):
        return int(m.group("line"))
    for no, line in enumerate(text.splitlines(), start=1):
        if re.match(r"^\s*extends\s*=", line):
            return no
    return None


def relative_to(message: str, root) -> str:
    """``message`` with its leading ``FILE:`` named relative to ``root`` when the file lies
    inside it: what the command line prints when run in that folder."""
    m = _WHERE.match(message) or _FILE.match(message)
    if not m or root is None:
        return message
    full = os.path.normpath(os.path.join(os.getcwd(), m.group("file")))
    root = os.path.normpath(os.path.abspath(root))
    if os.path.commonpath([full, root]) != root or not os.path.exists(full):
        return message
    return os.path.relpath(full, root) + message[m.end("file"):]


def _item(message: str, severity: str, path, text: str, source: str = "resonator",
          root=None) -> dict:
    return {"line": locate(message, path, text), "severity": severity,
            "message": relative_to(message, root), "source": source}


def diagnose(path, text: str, *, build: bool = False, window: tuple | None = None,
             points: int = 600, root=None) -> dict:
    """Validate an editor's text and describe what it plans.

    Parameters
    ----------
    path : str or Path
        The file the text belongs to (messages name it; ``extends`` resolves beside it).
    text : str
        The editor's whole text.
    build : bool
        Also build the session graph (finds what only building finds: a missing music file, a
        frequency a layer kind refuses); slower (up to a few hundred ms).
    window : (start_s, end_s), optional
        The part of the session the timeline shows (default: all of it).
    points : int >= 2
        Samples per timeline curve.
    root : str or Path, optional
        Messages about files inside this folder name them relative to it (as the command
        line does when run there); default: relative to the working folder.

    Returns
    -------
    dict
        ``ok`` (no error), ``diagnostics`` (list of ``{"line": int | None, "severity":
        "error" | "warning", "message", "source"}``, the message exactly as the command
        line prints it after ``error:`` / ``warning:``; design lints have source ``lint``), ``plan`` (:func:`~resonator.recipe.plan`
        when valid, else None), ``series`` (:func:`~resonator.recipe.plan.plan_series` when
        valid) and ``elapsed_ms``.
    """
    from ..recipe.plan import plan, plan_series

    t0 = time.perf_counter()
    out: dict = {"ok": False, "diagnostics": [], "plan": None, "series": None}
    try:
        recipe = load_text(path, text)
    except ResonatorError as exc:
        out["diagnostics"].append(_item(str(exc), "error", path, text, root=root))
        out["elapsed_ms"] = round((time.perf_counter() - t0) * 1e3, 1)
        return out
    warnings = list(recipe.warnings)
    if build:
        from ..recipe.session import build_session

        try:
            session = build_session(recipe)
            warnings += session.warnings[len(recipe.warnings):]
        except ResonatorError as exc:
            out["diagnostics"].append(_item(str(exc), "error", path, text, root=root))
    out["diagnostics"] += [_item(w, "warning", path, text, root=root) for w in warnings]
    # design lints (the loudness-jump lint renders around phase boundaries: only with build)
    from ..recipe.lints import lint_recipe

    out["diagnostics"] += [_item(str(x), "warning", path, text, source="lint", root=root)
                           for x in lint_recipe(recipe, render=build)]
    out["ok"] = not any(d["severity"] == "error" for d in out["diagnostics"])
    out["plan"] = plan(recipe, lints=False)
    a, b = window if window else (0.0, None)
    out["series"] = plan_series(recipe, start_s=a, end_s=b, points=points)
    out["elapsed_ms"] = round((time.perf_counter() - t0) * 1e3, 1)
    return out
