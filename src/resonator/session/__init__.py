"""Session building blocks for the recipe layer: temperature schedules and breathing patterns.

Both are plain numpy and independent of the signal-graph engine:

* :mod:`resonator.session.schedules`: cooling/heating curves of temperature in [0, 1], joined
  into a session-wide function of time, and :func:`bind` to map temperature onto parameters.
* :mod:`resonator.session.breath`: breathing patterns laid out as timelines of a breath value
  in [0, 1] with raised-cosine moves and cue events.
"""
from .breath import (
    BREATH_PATTERNS,
    BreathPattern,
    BreathTimeline,
    Phase,
    breath_pattern,
    timeline,
    timeline_varying,
    wim_hof_round_s,
)
from .schedules import (
    BIND_MAPPINGS,
    SCHEDULE_PARAMS,
    SCHEDULES,
    bind,
    progress_of,
    schedule_curve,
    segments_to_function,
)

__all__ = [
    "BREATH_PATTERNS",
    "BreathPattern",
    "BreathTimeline",
    "Phase",
    "breath_pattern",
    "timeline",
    "timeline_varying",
    "wim_hof_round_s",
    "BIND_MAPPINGS",
    "SCHEDULE_PARAMS",
    "SCHEDULES",
    "bind",
    "progress_of",
    "schedule_curve",
    "segments_to_function",
]
