"""Helpers shared by the layer-kind tests: build a layer the way the recipe layer does."""
from __future__ import annotations

from pathlib import Path

from resonator.graph import Constant
from resonator.layers import LAYER_KINDS, LayerContext
from resonator.render import render_array

NON_NUMERIC = ("choice", "text", "path", "bool", "int", "list", "table")


def make_ctx(sr=16000, duration_s=8.0, phases=None, warnings=None, recipe_dir=".",
             name="test-layer"):
    """A LayerContext for one layer in a one-phase session at temperature 0.5."""
    return LayerContext(
        sr=sr, duration_s=duration_s, phases=phases or [("main", 0.0, duration_s)],
        temperature=Constant(0.5), recipe_dir=Path(recipe_dir), layer_name=name,
        where="test.toml: layer \"x\"",
        warn=(warnings.append if warnings is not None else (lambda m: None)))


def make_params(kind, **given):
    """Every declared parameter, as the recipe layer passes them (numbers -> nodes)."""
    out = {}
    for name, info in LAYER_KINDS[kind].params.items():
        v = given.get(name, info.default)
        if info.automatable and info.unit not in NON_NUMERIC and not hasattr(v, "channels"):
            v = Constant(float(v))
        out[name] = v
    return out


def build(kind, ctx, **given):
    """The layer's stereo node."""
    node = LAYER_KINDS[kind].build(make_params(kind, **given), ctx)
    assert node.channels == 2
    return node


def render(kind, duration_s=4.0, sr=16000, ctx=None, **given):
    """Render a layer kind for ``duration_s`` seconds."""
    ctx = ctx or make_ctx(sr, duration_s)
    return render_array(build(kind, ctx, **given), duration_s, sr=ctx.sr)
