"""Recipe variants: ``--vary PATH=V1,V2,...`` as small recipe files that extend the base.

A *vary path* names one value of a recipe: ``phase.NAME.KEY`` (``phase.cool.duration``,
``phase.energize.temperature.to``), ``layer.NAME.KEY`` (``layer.beat.carrier``,
``layer.gamma.gain``), ``target.NAME.KEY``, or a top-level key (``seed``, ``loudness``,
``temperature.start``). Keys below the first may go into tables (``temperature.to``).

Values are read as TOML values when they are (``0.8``, ``true``, ``"sigmoid"``,
``{temperature = "2..7 Hz"}``), otherwise as text (``240 Hz``, ``10m``, ``-20 dB``); commas
inside brackets, braces or quotes do not split values.

Each variant is written as a recipe that ``extends`` the base and sets only what it varies
(the whole value of each key it touches, so the merge rules of ``extends`` cannot mix old and
new parts), plus a ``title`` naming the values. The file can be rendered, checked and edited
like any recipe.
"""
from __future__ import annotations

import itertools
import json
import math
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import RecipeError, ResonatorError

__all__ = ["Vary", "Variant", "parse_vary", "make_variants", "toml_value", "variant_text"]

#: arrays of tables whose entries a vary path picks by name (as ``extends`` merges them)
NAMED = ("phase", "layer", "target")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Vary:
    """One ``--vary`` option.

    Attributes
    ----------
    path : tuple of str
        ``("layer", "beat", "carrier")``.
    values : tuple
        The values (str, number, bool, list or dict).
    labels : tuple of str
        The values as written, for names and tables.
    """

    path: tuple
    values: tuple
    labels: tuple

    @property
    def text(self) -> str:
        """The path as written (``layer.beat.carrier``)."""
        return ".".join(self.path)

    @property
    def short(self) -> str:
        """The path without its section (``beat.carrier``), for names and column heads."""
        return ".".join(self.path[1:] if self.path[0] in NAMED else self.path)


def _split_top(text: str, sep: str) -> list[str]:
    """Split at ``sep`` outside brackets, braces and quotes."""
    parts, depth, quote, cur = [], 0, None, []
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return parts


def _value(text: str):
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_vary(spec: str) -> Vary:
    """Read one ``PATH=V1,V2,...`` option.

    Raises
    ------
    ResonatorError
        No ``=``, an empty path part, no value, an empty value, a value given twice.
    """
    where = f"--vary {spec}"
    path_text, eq, values_text = spec.partition("=")
    if not eq:
        raise ResonatorError("needs PATH=V1,V2,... such as layer.beat.carrier=200Hz,240Hz",
                             where)
    path = tuple(p.strip() for p in path_text.strip().split("."))
    if not path or any(not p for p in path):
        raise ResonatorError(f"the path {path_text.strip()!r} has an empty part; paths look like "
                             "layer.beat.carrier, phase.cool.duration or seed", where)
    if path[0] in NAMED and len(path) < 3:
        raise ResonatorError(f"a {path[0]} path names the {path[0]} and the key: "
                             f"{path[0]}.NAME.KEY (such as {path[0]}."
                             f"{'beat.carrier' if path[0] == 'layer' else 'cool.duration'})",
                             where)
    labels = [v.strip() for v in _split_top(values_text, ",")]
    if not values_text.strip() or any(not v for v in labels):
        raise ResonatorError("a value is empty: give values separated by commas", where)
    if len(set(labels)) != len(labels):
        dup = next(v for v in labels if labels.count(v) > 1)
        raise ResonatorError(f"the value {dup!r} is given twice", where)
    return Vary(path, tuple(_value(v) for v in labels), tuple(labels))


def toml_value(v) -> str:
    """A Python value as a TOML value (inline tables and arrays; strings as basic strings)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k if _BARE_KEY.match(k) else json.dumps(k)} = {toml_value(x)}"
                               for k, x in v.items()) + "}"
    raise TypeError(f"no TOML form for {type(v).__name__}")


@dataclass(frozen=True)
class Variant:
    """One combination of values.

    Attributes
    ----------
    index : int
        Position in the full product of the ``--vary`` lists (0-based, the first option
        varying slowest): stable when ``--sample`` picks a subset.
    name : str
        File name stem: ``003-beat.carrier=240Hz_gamma.gain=-20dB``.
    values : tuple
        One value per ``--vary`` option.
    labels : dict
        ``{path text: value as written}``.
    """

    index: int
    name: str
    values: tuple
    labels: dict


def _slug(text: str) -> str:
    """A value as a file-name part; a leading minus sign stays (``-20dB`` is not ``20dB``)."""
    text = text.replace(" ", "")
    slug = re.sub(r"[^A-Za-z0-9.=+_-]+", "-", text).rstrip("-")
    if not text.startswith("-"):
        slug = slug.lstrip("-")
    return slug or "x"


def make_variants(varies: list[Vary], *, sample: int | None = None,
                  sample_seed: int = 0) -> tuple[list[Variant], int]:
    """Every combination of the values (or ``sample`` of them, chosen with ``sample_seed``).

    Returns
    -------
    variants : list of Variant
        In product order.
    total : int
        The size of the full product.
    """
    if not varies:
        raise ResonatorError("give at least one --vary PATH=V1,V2,...", "--vary")
    seen = set()
    for v in varies:
        if v.path in seen:
            raise ResonatorError(f"{v.text} is varied twice: give all its values in one --vary",
                                 "--vary")
        seen.add(v.path)
    combos = list(itertools.product(*(range(len(v.values)) for v in varies)))
    total = len(combos)
    chosen = range(total)
    if sample is not None:
        if isinstance(sample, bool) or not isinstance(sample, int) or sample < 1:
            raise ResonatorError(f"must be a whole number >= 1, got {sample!r}", "--sample")
        if sample < total:
            import random

            chosen = sorted(random.Random(sample_seed).sample(range(total), sample))
    width = len(str(total - 1))
    out = []
    for i in chosen:
        idx = combos[i]
        labels = {v.text: v.labels[k] for v, k in zip(varies, idx)}
        slug = "_".join(f"{v.short}={_slug(v.labels[k])}" for v, k in zip(varies, idx))
        out.append(Variant(i, f"{i:0{width}d}-{slug}", tuple(v.values[k] for v, k in
                                                            zip(varies, idx)), labels))
    return out, total


def _set(container: dict, keys: tuple, value, where: str, shown: str):
    """``container[k0][k1]... = value`` on a copy; missing tables are created."""
    out = dict(container)
    k = keys[0]
    if len(keys) == 1:
        out[k] = value
        return out
    sub = out.get(k, {})
    if not isinstance(sub, dict):
        raise RecipeError(f"{shown} goes into {k!r}, which is a value ({toml_value(sub)}), not "
                          "a table", where)
    out[k] = _set(sub, keys[1:], value, where, shown)
    return out


def variant_text(base, variant: Variant, varies: list[Vary], *, folder) -> str:
    """The recipe text of one variant, to be written into ``folder``.

    Parameters
    ----------
    base : resonator.recipe.loader.RawRecipe
        The base recipe's merged data (:func:`resonator.recipe.loader.load_raw`).
    variant : Variant
    varies : list of Vary
    folder : str or Path
        Where the variant file goes (``extends`` is written relative to it).

    Raises
    ------
    RecipeError
        A path names a phase, layer or target the base does not have, or goes into a value.
    """
    data = base.data
    top: dict = {}
    entries: dict = {}  # (section, name) -> {key: whole new value}
    label = ", ".join(f"{v.short} {variant.labels[v.text]}" for v in varies)
    for vary, value in zip(varies, variant.values):
        where = f"--vary {vary.text}"
        if vary.path[0] in NAMED:
            section, name, keys = vary.path[0], vary.path[1], vary.path[2:]
            found = [e for e in data.get(section, []) if e.get("name") == name]
            if not found:
                names = [e.get("name") for e in data.get(section, []) if e.get("name")]
                raise RecipeError(f"the recipe has no {section} named {name!r}; its "
                                  f"{section}s are {', '.join(names) or 'none'}", where)
            current = entries.setdefault((section, name), {})
            merged = {**found[0], **current}
            new = _set(merged, keys, value, where, vary.text)
            current[keys[0]] = new[keys[0]]
        else:
            merged = {**data, **top}
            new = _set(merged, vary.path, value, where, vary.text)
            top[vary.path[0]] = new[vary.path[0]]
    folder = Path(folder)
    base_path, here = Path(base.path).resolve(), folder.resolve()
    # relative, so a project folder can move as a whole; absolute when they share only "/"
    common = os.path.commonpath([base_path, here])
    rel = str(base_path) if common == os.path.dirname(common) else os.path.relpath(base_path, here)
    title = top.pop("title", None) or f"{data.get('title') or Path(base.path).stem} ({label})"
    lines = [f"# A variant of {Path(base.path).name} written by 'resonator sweep': {label}.",
             "# Edit it like any recipe; what it does not set comes from the recipe it extends.",
             f"extends = {toml_value(rel)}",
             f"title = {toml_value(title)}"]
    lines += [f"{k} = {toml_value(v)}" for k, v in top.items()]
    for (section, name), keys in sorted(entries.items(), key=lambda e: NAMED.index(e[0][0])):
        lines += ["", f"[[{section}]]", f"name = {toml_value(name)}"]
        lines += [f"{k if _BARE_KEY.match(k) else json.dumps(k)} = {toml_value(v)}"
                  for k, v in keys.items()]
    return "\n".join(lines) + "\n"
