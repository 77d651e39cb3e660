"""The plan as a picture (``resonator plan --plot``): phases, temperature, where each layer
sounds, its breath pattern and the values that change while it sounds. matplotlib (Agg) is
imported here only."""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plan_figure", "plot_plan"]

#: seconds of breath pattern drawn for each breath layer
BREATH_WINDOW_S = 60.0
LAYER_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                 "#bcbd22", "#7f7f7f", "#d62728")


def _presence(layer: dict) -> np.ndarray:
    """How much a layer sounds at the plan's times, 0..1: its phase envelope times its level
    (an imported sequence switches voices with their level), the level scaled to its top."""
    env = np.asarray(layer["envelope"], dtype=float)
    level = next((p for p in layer["params"] if p["name"] == "level"), None)
    if level is not None:
        lv = np.abs(np.asarray(level["values"], dtype=float)) if level["varies"] else \
            np.full(env.shape, abs(level["value"]))
        top = float(lv.max())
        env = env * (lv / top if top > 0 else lv)
    return env


def plan_figure(recipe, *, points: int = 2000):
    """The plan as a matplotlib Figure (see :func:`plot_plan`).

    Axes, top to bottom (each named by ``get_label()``): ``phases`` (alternating bands, the
    names that fit drawn without overlapping), ``temperature`` (only when it changes),
    ``layers`` (one row per layer: its phase envelope times its level, scaled to the layer's
    top level: where and how much it sounds), a
    ``breath: NAME`` axes per breath layer (the breath value over its first minute, inhales
    shaded), then per layer one axes per value that changes while the layer sounds, labelled
    ``LAYER > VALUE (unit)`` and drawn only where the layer sounds. Constant values, and values
    that change only where their layer is silent, get no axes.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import clock, phase_labels, time_axis
    from .model import Recipe
    from .plan import plan_series

    if not isinstance(recipe, Recipe):
        from ..loading import load

        recipe = load(recipe)
    series = plan_series(recipe, points=points)
    t = np.asarray(series["t"])
    div, unit = time_axis(recipe.duration_s)
    x = t / div
    temp = np.asarray(series["temperature"])
    show_temp = float(np.ptp(temp)) > 1e-6
    panels = []  # (layer index, param dict, values where the layer sounds)
    presence = [_presence(lay) for lay in series["layers"]]
    for i, lay in enumerate(series["layers"]):
        for prm in lay["params"]:
            if not prm["varies"] or prm["name"] == "level":  # (the level is the lane's height)
                continue
            v = np.where(presence[i] > 0, np.asarray(prm["values"], dtype=float), np.nan)
            if np.all(np.isnan(v)) or float(np.nanmax(v) - np.nanmin(v)) <= \
                    1e-6 * max(abs(float(np.nanmax(v))), 1e-9):
                continue  # flat where the layer sounds
            panels.append((i, prm, v))
    breaths = [(i, spec) for i, spec in enumerate(recipe.layers) if spec.kind == "breath"]
    heights = [0.45] + ([1.3] if show_temp else []) + [0.35 * len(series["layers"]) + 0.4] + \
        [1.2] * len(breaths) + [1.1] * len(panels)
    fig = plt.figure(figsize=(11, 1.0 + sum(heights)), layout="constrained")
    gs = fig.add_gridspec(len(heights), 1, height_ratios=heights)
    axes = []

    def new_axes(label, sharex=True):
        ax = fig.add_subplot(gs[len(axes), 0], sharex=axes[0] if axes and sharex else None)
        ax.set_label(label)
        axes.append(ax)
        return ax

    # phases
    ax = new_axes("phases")
    for k, p in enumerate(series["phases"]):
        ax.axvspan(p["start_s"] / div, p["end_s"] / div, color="0.88" if k % 2 else "0.95",
                   lw=0)
    ax.set_xlim(0, recipe.duration_s / div)
    ax.set_yticks([])
    ax.set_ylabel("phases", rotation=0, ha="right", va="center", fontsize=8)
    ax.set_title(recipe.title)
    phase_labels(ax, [(p["name"], p["start_s"], p["end_s"]) for p in series["phases"]], div)
    # temperature
    if show_temp:
        ax = new_axes("temperature")
        ax.plot(x, temp, color="tab:red")
        ax.set_ylim(-0.05, 1.05)
        ax.set_ylabel("temperature")
    # layers: where each sounds
    ax = new_axes("layers")
    names = []
    for i, lay in enumerate(series["layers"]):
        row = len(series["layers"]) - 1 - i
        ax.fill_between(x, row, row + 0.8 * presence[i],
                        color=LAYER_COLOURS[i % len(LAYER_COLOURS)], lw=0, alpha=0.8)
        names.append((row, f"{lay['name']} ({lay['kind']})"))
    ax.set_yticks([r + 0.4 for r, _ in names], [n for _, n in names], fontsize=8)
    ax.set_ylim(-0.2, len(series["layers"]))
    # breath patterns
    for i, spec in breaths:
        lay = series["layers"][i]
        start = lay["sounding"][0][0] if lay["sounding"] else 0.0
        ax = new_axes(f"breath: {spec.name}", sharex=False)
        tl = _breath_timeline(recipe, spec)
        tt = np.linspace(start, min(start + BREATH_WINDOW_S, recipe.duration_s), 1200)
        b = tl.evaluate(tt)
        ax.plot(tt - start, b, color=LAYER_COLOURS[i % len(LAYER_COLOURS)])
        rising = np.concatenate((np.diff(b) > 1e-9, [False]))
        ax.fill_between(tt - start, 0, b, where=rising, color="0.8", lw=0, label="inhale")
        ax.set_ylim(-0.05, 1.1)
        ax.set_xlim(0, tt[-1] - start)
        ax.set_ylabel("lungs", fontsize=8)
        ax.set_xlabel(f"seconds from {clock(start)}", fontsize=8)
        starts = [(a, n) for a, n in tl.cycles if tt[0] <= a < tt[-1]]
        rate = f", {60.0 / np.mean([n for _, n in starts]):.1f}/min here" if starts else ""
        ax.set_title(f"breath \"{spec.name}\": {tl.pattern}{rate}", fontsize=9)
        ax.legend(loc="upper right", fontsize=7)
    # values that change while their layer sounds
    for i, prm, v in panels:
        lay = series["layers"][i]
        ax = new_axes(f"{lay['name']} > {prm['name']}")
        ax.plot(x, v, color=LAYER_COLOURS[i % len(LAYER_COLOURS)])
        u = f" ({prm['unit']})" if prm["unit"] else ""
        ax.set_ylabel(f"{lay['name']} >\n{prm['name']}{u}", fontsize=8)
    shared = [a for a in axes if not a.get_label().startswith("breath: ")]
    for a in shared:
        for p in series["phases"][1:]:
            a.axvline(p["start_s"] / div, color="0.6", lw=0.6, ls="--")
        if a.get_label() != "phases":
            a.grid(alpha=0.3)
        if a is not shared[-1]:
            a.tick_params(labelbottom=False)
    shared[-1].set_xlabel(unit)
    return fig


def _breath_timeline(recipe, spec):
    """The breath timeline of a breath layer, built as the session builds it."""
    from ..graph.core import Constant
    from ..layers.base import LayerContext
    from ..layers.breath import breath_timeline
    from .values import ValueSpec

    tl = recipe.timeline()
    params = {k: v for k, v in spec.params.items() if not isinstance(v, ValueSpec)}
    params["rate"] = spec.params["rate"].to_node(tl)
    ctx = LayerContext(sr=8000, duration_s=recipe.duration_s, phases=list(tl.phases),
                       temperature=Constant(0.0), recipe_dir=recipe.path.parent,
                       layer_name=spec.name)
    return breath_timeline(params, ctx)


def plot_plan(recipe, path, *, points: int = 2000) -> Path:
    """Write the plan's PNG (:func:`plan_figure`).

    Parameters
    ----------
    recipe : Recipe, str or Path
    path : str or Path
        The picture (``.png``, ``.svg`` or ``.pdf``) in an existing folder, written
        atomically (:func:`resonator.outputs.save_figure`).
    points : int
        Samples per curve.

    Returns
    -------
    Path
    """
    import matplotlib.pyplot as plt

    from ..outputs import save_figure

    fig = plan_figure(recipe, points=points)
    try:
        return save_figure(fig, path, dpi=100)
    finally:
        plt.close(fig)
