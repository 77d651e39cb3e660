"""The session temperature: a control signal in [0, 1] shaped phase by phase.

Session defaults go in ``[temperature]``: ``start`` (temperature at 0 s, default 0) and
``schedule`` (default schedule of phases that change the temperature, default ``"linear"``).

Each ``[[phase]]`` may set ``temperature``:

* left out or ``"hold"``: the temperature holds through the phase;
* a number: move to that temperature over the whole phase on the default schedule;
* a table ``{to = 0.05, schedule = "exponential", time = "12m", delay = "1m", ...}``:
  ``to`` the end temperature (0..1); ``schedule`` one of
  :data:`~resonator.session.schedules.SCHEDULES`; ``time`` how long the change takes (default:
  the rest of the phase after ``delay``); ``delay`` when in the phase it starts (default 0);
  and the schedule's own parameters (``floor``, ``steps``, ``offset``, ``steepness``,
  ``spacing``, ``smooth``, or ``ramp`` = seconds per stepped ramp). Outside the change it holds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..errors import RecipeError
from ..session.schedules import SCHEDULE_PARAMS, SCHEDULES, segments_to_function
from ..units import did_you_mean, format_duration, parse_duration, quote

SESSION_KEYS = ("start", "schedule")
PHASE_KEYS = ("to", "schedule", "time", "delay")
SCHEDULE_OPTION_KEYS = ("floor", "steps", "offset", "steepness", "spacing", "smooth", "ramp")


@dataclass
class PhaseTemperature:
    """How one phase moves the temperature."""

    to: float | None = None          # None: hold
    schedule: str = "linear"
    time_s: float | None = None      # None: the rest of the phase
    delay_s: float = 0.0
    params: dict = field(default_factory=dict)

    @property
    def holds(self) -> bool:
        return self.to is None


def _temp(value, where) -> float:
    if isinstance(value, bool):
        raise RecipeError(f"a temperature is a number from 0 to 1, got {quote(value)}", where)
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise RecipeError(f"a temperature is a number from 0 to 1, got {quote(value)}",
                          where) from None
    if not 0.0 <= t <= 1.0:
        raise RecipeError(f"a temperature is a number from 0 to 1, got {quote(value)}", where)
    return t


def _schedule(value, where) -> str:
    s = str(value).strip().lower()
    aliases = {"geometric": "exponential", "exp": "exponential", "log": "logarithmic",
               "lundy_mees": "lundy-mees", "lundymees": "lundy-mees", "cos": "cosine",
               "stage": "stepped", "steps": "stepped"}
    s = aliases.get(s, s)
    if s not in SCHEDULES:
        did = did_you_mean(str(value), SCHEDULES)
        raise RecipeError(f"unknown schedule {quote(value)}{did or ';'} allowed: "
                          f"{', '.join(SCHEDULES)}", where)
    return s


def parse_session_temperature(raw, where: Callable[[tuple], str]) -> tuple[float, str]:
    """``[temperature]`` -> (start temperature, default schedule)."""
    if raw is None:
        return 0.0, "linear"
    if not isinstance(raw, dict):
        raise RecipeError("[temperature] must be a table with start and schedule",
                          where(()))
    for k in raw:
        if k not in SESSION_KEYS:
            did = did_you_mean(k, SESSION_KEYS)
            raise RecipeError(f"unknown key '{k}' in [temperature]{did or ';'} allowed: "
                              f"{', '.join(SESSION_KEYS)} (phases change the temperature "
                              "with their own temperature = {to = ..., schedule = ...})",
                              where((k,)))
    start = _temp(raw.get("start", 0.0), where(("start",)))
    sched = _schedule(raw.get("schedule", "linear"), where(("schedule",)))
    return start, sched


def parse_phase_temperature(raw, default_schedule: str, where: Callable[[tuple], str]
                            ) -> PhaseTemperature:
    """A phase's ``temperature`` value -> :class:`PhaseTemperature`."""
    if raw is None or (isinstance(raw, str) and raw.strip().lower() == "hold"):
        return PhaseTemperature(schedule="hold")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return PhaseTemperature(to=_temp(raw, where(())), schedule=default_schedule)
    if not isinstance(raw, dict):
        raise RecipeError(
            f"temperature must be \"hold\", a number from 0 to 1 (the end temperature) or a "
            f"table {{to = 0.1, schedule = \"exponential\", time = \"10m\"}}, got {quote(raw)}",
            where(()))
    allowed = PHASE_KEYS + SCHEDULE_OPTION_KEYS
    for k in raw:
        if k not in allowed:
            did = did_you_mean(k, allowed)
            raise RecipeError(f"unknown key '{k}' in a phase temperature{did or ';'} allowed: "
                              f"{', '.join(allowed)}", where((k,)))
    sched_raw = raw.get("schedule", default_schedule)
    if isinstance(sched_raw, str) and sched_raw.strip().lower() == "hold":
        if "to" in raw:
            raise RecipeError("a hold keeps the temperature: remove 'to' or choose a "
                              "schedule", where(("schedule",)))
        return PhaseTemperature(schedule="hold")
    if "to" not in raw:
        raise RecipeError("a phase temperature needs 'to' (the temperature at the end of the "
                          "change, 0..1), or write temperature = \"hold\"", where(()))
    sched = _schedule(sched_raw, where(("schedule",)))
    params = {}
    for k in SCHEDULE_OPTION_KEYS:
        if k not in raw:
            continue
        if k == "ramp":
            if sched != "stepped":
                raise RecipeError("ramp is for the stepped schedule only", where((k,)))
            params["ramp_s"] = parse_duration(raw[k], where=where((k,)))
        elif k not in SCHEDULE_PARAMS[sched]:
            allowed_p = list(SCHEDULE_PARAMS[sched]) + (["ramp"] if sched == "stepped" else [])
            raise RecipeError(f"'{k}' is not a parameter of the {sched} schedule; allowed: "
                              f"{', '.join(allowed_p) or 'none'}", where((k,)))
        else:
            params[k] = raw[k]
    time_s = parse_duration(raw["time"], where=where(("time",))) if "time" in raw else None
    if time_s is not None and time_s <= 0:
        raise RecipeError("time must be longer than 0 s (the change takes time)",
                          where(("time",)))
    delay = parse_duration(raw["delay"], where=where(("delay",))) if "delay" in raw else 0.0
    return PhaseTemperature(to=_temp(raw["to"], where(("to",))), schedule=sched,
                            time_s=time_s, delay_s=delay, params=params)


def segments(phases: list, temps: list[PhaseTemperature], start_temperature: float,
             where_of: Callable[[int, tuple], str]) -> list[dict]:
    """Schedule segments (for :func:`segments_to_function`) and checks of times."""
    out: list[dict] = []
    current = start_temperature
    for i, ((name, start, end), pt) in enumerate(zip(phases, temps)):
        length = end - start
        if pt.holds or pt.to == current:
            out.append(dict(start_s=start, end_s=end, kind="hold", t_start=current))
            continue
        delay = pt.delay_s
        change = pt.time_s if pt.time_s is not None else length - delay
        if delay + change > length + 1e-9 or change <= 0:
            raise RecipeError(
                f"the temperature change of phase \"{name}\" (delay {format_duration(delay)} + "
                f"time {format_duration(change)}) does not fit in the phase "
                f"({format_duration(length)}); shorten time/delay or lengthen the phase",
                where_of(i, ("time",) if pt.time_s is not None else ()))
        if delay > 0:
            out.append(dict(start_s=start, end_s=start + delay, kind="hold", t_start=current))
        seg = dict(start_s=start + delay, end_s=start + delay + change, kind=pt.schedule,
                   t_start=current, t_end=pt.to, params=dict(pt.params))
        try:  # validate the schedule's parameters here, with the phase's location
            segments_to_function([dict(seg, params=dict(pt.params))])
        except RecipeError as exc:
            raise RecipeError(exc.message, where_of(i, ("schedule",))) from None
        out.append(seg)
        if start + delay + change < end - 1e-9:
            out.append(dict(start_s=start + delay + change, end_s=end, kind="hold",
                            t_start=pt.to))
        current = pt.to
    return out


def cooling_spans(segs: list[dict], phases: list, min_s: float = 60.0
                  ) -> list[tuple[float, float, str | None]]:
    """``(start_s, end_s, phase)`` of every schedule segment where the temperature falls
    (by more than 0.05) over at least ``min_s`` seconds."""
    out = []
    for seg in segs:
        if seg["kind"] == "hold" or seg["end_s"] - seg["start_s"] < min_s or \
                not seg["t_end"] < seg["t_start"] - 0.05:
            continue
        name = next((n for n, a, b in phases if a <= seg["start_s"] < b), None)
        out.append((float(seg["start_s"]), float(seg["end_s"]), name))
    return out


def temperature_function(phases, temps, start_temperature, where_of, label: str):
    """The session temperature ``T(t)`` as a vectorised function of seconds."""
    segs = segments(phases, temps, start_temperature, where_of)
    try:
        return segments_to_function(segs, where=label), segs
    except RecipeError as exc:
        raise RecipeError(exc.message, exc.where) from None
