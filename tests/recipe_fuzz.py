"""A seeded mutation fuzzer for recipe loading (used by tests/test_fuzz_recipes.py and
benchmarks/fuzz_recipes.py).

A case is a shipped recipe and a list of mutations, applied either to its parsed data (then
written back as TOML) or to its text. :func:`exercise` runs what a user's command would:
load, plan, build the session and render a short window from a random point. Any exception
that is not a :class:`resonator.errors.ResonatorError` is a finding.
"""
from __future__ import annotations

import copy
import json
import math
import re
import shutil
import tomllib
from pathlib import Path

DEEP = 3000  # nesting that overflows a recursive parser

#: values a mutation may put anywhere (type confusion, edges, huge sizes)
PALETTE = [
    0, -1, 1, 7, 2**63 - 1, -(2**63), 2**64, 10**30, 0.5, -0.0, 1e-300, 1e308, -1e308,
    math.nan, math.inf, -math.inf,
    "", " ", "x", "\x00", "a" * 5000, "1000", "-1", "0", "nan", "inf", "1e308",
    "curve:1000", "curve:-1000", "curve:1e300", "exp", "step",
    "-10 Hz", "0 Hz", "1e308 Hz", "nan Hz", "1e-9 Hz", "23999.9 Hz", "1 kHz",
    "10m", "0s", "-1s", "1e9h", "1e-9s", "99:99", "end", "end-1e9s",
    "-200 dB", "+200 dB", "-inf dB", "off", "150%", "-5%",
    "0/min", "1e9/min", "2..1 Hz", "1..1e308 Hz", "nan..1 Hz",
    ".", "/", "/dev/zero", "../", "..", "/etc/passwd", "no-such.toml", "a" * 300 + ".toml",
    True, False, [], [1], ["a"], [[]], [{}], {}, {"a": 1}, {"temperature": "2..10 Hz"},
    {"points": [["0s", "1 Hz"], ["1s", "2 Hz", "curve:1000"]]}, {"points": []},
    {"points": [["1e9s", "1 Hz"]]}, {"to": 2.0}, {"schedule": "nope"},
]


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def _val(v, depth=0) -> str:
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
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_val(x, depth + 1) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_val(x, depth + 1)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def dumps(data: dict) -> str:
    """TOML text for ``data``: scalars and inline values first, then tables and arrays of
    tables (so ``[[phase]]`` / ``[[layer]]`` headers appear as in hand-written recipes)."""
    head, tail = [], []
    for k, v in data.items():
        if isinstance(v, dict) and v:
            tail.append(f"\n[{_key(k)}]")
            tail.extend(f"{_key(a)} = {_val(b)}" for a, b in v.items())
        elif isinstance(v, list) and v and all(isinstance(e, dict) for e in v):
            for e in v:
                tail.append(f"\n[[{_key(k)}]]")
                tail.extend(f"{_key(a)} = {_val(b)}" for a, b in e.items())
        else:
            head.append(f"{_key(k)} = {_val(v)}")
    return "\n".join(head + tail) + "\n"


def _paths(node, prefix=()):
    """Every key path in a parsed TOML tree (dict keys and list indexes)."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append(prefix + (k,))
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append(prefix + (i,))
            out.extend(_paths(v, prefix + (i,)))
    return out


def _get(node, path):
    for p in path:
        node = node[p]
    return node


def _numbers_in(text: str):
    return list(re.finditer(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?", text))


DATA_OPS = ("set", "set", "set", "delete", "unknown_key", "swap", "duplicate", "number",
            "extends", "enabled")
TEXT_OPS = ("delete_line", "duplicate_line", "swap_lines", "junk", "junk", "truncate", "char",
            "char")
JUNK = ["[", "]", "{", "}", "\"", "'", "=", "#", "\n", "\\", "[[", "]]", "\x00", "\ufeff",
        "\"\"\"", "a.b.c = 1\n", "[phase]\n", "[[layer]]\nname = \"x\"\n", " = ", "\t", "\r"]


def mutate_data(data: dict, draw) -> dict:
    """One structural mutation; ``draw(n)`` returns an int in [0, n)."""
    data = copy.deepcopy(data)
    op = DATA_OPS[draw(len(DATA_OPS))]
    paths = _paths(data)
    if op == "extends":
        data["extends"] = PALETTE[draw(len(PALETTE))]
        return data
    if op == "enabled":
        layers = [e for e in data.get("layer") or [] if isinstance(e, dict)] \
            if isinstance(data.get("layer"), list) else []
        if layers:
            layers[draw(len(layers))]["enabled"] = PALETTE[draw(len(PALETTE))]
        return data
    if not paths:
        return data
    path = paths[draw(len(paths))]
    parent = _get(data, path[:-1])
    last = path[-1]
    if op == "set":
        parent[last] = copy.deepcopy(PALETTE[draw(len(PALETTE))])
    elif op == "delete":
        del parent[last]
    elif op == "unknown_key" and isinstance(parent, dict):
        other = paths[draw(len(paths))][-1]
        parent[str(other) + ("" if draw(2) else "_x")] = PALETTE[draw(len(PALETTE))]
    elif op == "swap":  # a value from elsewhere in the recipe (a table where a list goes ...)
        other = _get(data, paths[draw(len(paths))])
        parent[last] = copy.deepcopy(other)
    elif op == "duplicate" and isinstance(parent, list):
        parent.insert(draw(len(parent) + 1), copy.deepcopy(parent[last]))
    elif op == "number":
        v = parent[last]
        if isinstance(v, str) and _numbers_in(v):
            m = _numbers_in(v)[draw(len(_numbers_in(v)))]
            new = ["0", "-1", "1e308", "1e-300", "nan", "99999999999", "-0", "1e400"][draw(8)]
            parent[last] = v[:m.start()] + new + v[m.end():]
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            parent[last] = [0, -1, 1e308, -v, v * 1e6, v / 1e6, math.nan][draw(7)]
    return data


def mutate_text(text: str, draw) -> str:
    op = "deep" if draw(40) == 0 else TEXT_OPS[draw(len(TEXT_OPS))]
    lines = text.splitlines(keepends=True) or [""]
    if op == "delete_line":
        del lines[draw(len(lines))]
    elif op == "duplicate_line":
        i = draw(len(lines))
        lines.insert(i, lines[i])
    elif op == "swap_lines":
        i, j = draw(len(lines)), draw(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "junk":
        i = draw(len(text) + 1)
        return text[:i] + JUNK[draw(len(JUNK))] + text[i:]
    elif op == "truncate":
        return text[:draw(len(text) + 1)]
    elif op == "deep":
        key = ["x", "extends", "seed", "sample_rate"][draw(4)]
        return f"{key} = " + "[" * DEEP + "]" * DEEP + "\n" + text
    elif op == "char":
        if text:
            i = draw(len(text))
            return text[:i] + chr(draw(0x2FF) + 1) + text[i + 1:]
    return "".join(lines)


def make_case(text: str, draw, n_mutations: int) -> str:
    """The mutated text of one case."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        data = None
    for _ in range(n_mutations):
        if data is not None and draw(3):
            data = mutate_data(data, draw)
            text = dumps(data)
        else:
            text = mutate_text(text, draw)
            try:
                data = tomllib.loads(text)
            except (tomllib.TOMLDecodeError, RecursionError):
                data = None
    return text


def shipped_dir() -> Path:
    import resonator

    here = Path(resonator.__file__).resolve().parent
    for cand in (here / "recipes", here.parent.parent / "recipes"):
        if cand.is_dir():
            return cand
    raise FileNotFoundError("no shipped recipes")


def workdir(tmp: Path) -> tuple[Path, dict[str, str]]:
    """Copy the shipped recipes (and their data) into ``tmp``; their texts by name."""
    src = shipped_dir()
    dst = tmp / "recipes"
    shutil.copytree(src, dst, dirs_exist_ok=True)
    texts = {p.stem: p.read_text(encoding="utf-8") for p in sorted(src.glob("*.toml"))}
    return dst, texts


def _load(path):
    try:
        from resonator.loading import load
    except ImportError:  # before loading.load existed
        from resonator.recipe import load_recipe as load
    return load(path)


def exercise(path: Path, where: float, render: bool = True) -> None:
    """What a command does with a recipe: load, plan, build, render 0.05 s at ``where`` (a
    share of the session). ResonatorError is the expected outcome for bad input."""
    from resonator.recipe.plan import plan
    from resonator.recipe.session import build_session
    from resonator.render import render_array

    recipe = _load(path)
    plan(recipe)
    if not render:
        return
    session = build_session(recipe)
    dur = session.duration_s
    start = min(max(0.0, where * dur), max(0.0, dur - 0.05))
    render_array(session.node, min(0.05, dur - start), sr=session.sr, seed=session.seed,
                 start_s=start, block_frames=4096)
