"""Small helpers the pictures share (plan, check, analyze): time axes, phase labels that fit,
plain-number ticks on log axes. matplotlib is imported inside the functions only."""
from __future__ import annotations

import numpy as np

__all__ = ["time_axis", "clock", "clock_ticks", "phase_labels", "plain_log_ticks",
           "label_axes"]

#: tick steps (s) a clock axis chooses from
CLOCK_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200)


def time_axis(duration_s: float) -> tuple[float, str]:
    """``(divisor, unit name)`` for a time axis: seconds up to 10 minutes, minutes up to 4
    hours, hours beyond."""
    if duration_s <= 600:
        return 1.0, "seconds"
    if duration_s <= 4 * 3600:
        return 60.0, "minutes"
    return 3600.0, "hours"


def clock(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss`` (whole seconds)."""
    s = int(round(max(0.0, float(seconds))))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def clock_ticks(axis, span_s: float, most: int = 10) -> None:
    """Ticks on an axis in seconds every round step (10 s, 1 min, 5 min, ...: at most
    ``most`` over ``span_s``), labelled ``m:ss`` or ``h:mm:ss``."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    step = next((s for s in CLOCK_STEPS_S if span_s / s <= most), CLOCK_STEPS_S[-1])
    axis.set_major_locator(MultipleLocator(step))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: clock(v)))


def phase_labels(ax, phases, div: float = 1.0, *, y: float = 0.5, color: str = "black",
                 fontsize: float = 8) -> list[str]:
    """Write each phase's name centred in its span (data x in seconds / ``div``, axes
    fraction ``y``) where it fits without touching its neighbours; the others are left out.

    Parameters
    ----------
    ax : matplotlib Axes
        Its x limits must be set and its figure laid out (sizes are measured).
    phases : sequence of (name, start_s, end_s)

    Returns
    -------
    list of str
        The names drawn, in order.
    """
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    x0, x1 = ax.get_xlim()
    width_px = ax.get_window_extent(renderer).width
    drawn, right_edge = [], -np.inf
    for name, a, b in phases:
        a, b = max(a / div, x0), min(b / div, x1)
        if b <= a:
            continue
        txt = ax.text((a + b) / 2, y, name, ha="center", va="center", fontsize=fontsize,
                      color=color, transform=ax.get_xaxis_transform(), clip_on=True)
        w = txt.get_window_extent(renderer).width
        span_px = (b - a) / (x1 - x0) * width_px
        left = ((a + b) / 2 - x0) / (x1 - x0) * width_px - w / 2
        if w + 4 > span_px or left < right_edge + 4:
            txt.remove()
            continue
        right_edge = left + w
        drawn.append(name)
    return drawn


def plain_log_ticks(axis, ticks) -> None:
    """Major ticks at ``ticks`` on a log axis, labelled as plain numbers (``120``, ``0.5``),
    no minor ticks."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())


def label_axes(axes, labels) -> None:
    """Name each axes (``ax.get_label()``), so tests and tools find them by what they show."""
    for ax, label in zip(axes, labels):
        ax.set_label(label)
