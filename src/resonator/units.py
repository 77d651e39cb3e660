"""Readable units for recipes: durations, frequencies, rates, levels, ratios and ranges.

Every ``parse_*`` function accepts a plain number (taken in the function's base unit) or a
string with a unit, and returns a float in the base unit:

==================== ============ ==========================================================
function             base unit    accepted strings (case and spaces do not matter)
==================== ============ ==========================================================
parse_duration       seconds      ``"90"``, ``"90s"``, ``"250ms"``, ``"10m"``, ``"2.5min"``,
                                  ``"1h"``, ``"1h30m"``, ``"1:30"`` (m:ss), ``"1:30:00"``
parse_frequency      Hz           ``"6"``, ``"6 Hz"``, ``"440hz"``, ``"1.5 kHz"``
parse_rate_per_min   1/min        ``"6"``, ``"6/min"``, ``"6 per min"``, ``"6 bpm"``,
                                  ``"0.1 Hz"`` (= 6/min)
parse_gain_db        dB           ``"-18"``, ``"-18 dB"``, ``"-inf dB"``, ``"off"``
parse_level          amplitude    ``"-18 dB"`` (-> 0.126), ``0.5``, ``"50%"``, ``"off"``
parse_loudness       LUFS         ``"-20"``, ``"-20 LUFS"``
parse_true_peak      dBTP         ``"-1"``, ``"-1 dBTP"``
parse_ratio          (none)       ``"3:2"``, ``"3/2"``, ``"1.5"``
==================== ============ ==========================================================

:func:`parse_range` turns ``"2..10 Hz"``, ``"-30..-12 dB"`` or ``[2, 10]`` into a pair through
any of these parsers. :func:`format_duration` writes durations back for plans and messages, and
:func:`suggest` finds the closest allowed word for "did you mean" hints.

Every parser takes an optional keyword ``where`` (the file and place in it) and raises
:class:`resonator.errors.RecipeError` with that ``where`` when the value cannot be read.
"""
from __future__ import annotations

import difflib
import math
import numbers
import re
from dataclasses import dataclass
from typing import Callable, Iterable

from .errors import RecipeError

__all__ = [
    "parse_duration",
    "parse_frequency",
    "parse_rate_per_min",
    "parse_gain_db",
    "parse_level",
    "parse_loudness",
    "parse_true_peak",
    "parse_ratio",
    "parse_range",
    "format_duration",
    "suggest",
    "did_you_mean",
    "db_to_amplitude",
    "quote",
    "parse_number",
    "parse_fraction",
    "parse_signed_frequency",
    "Unit",
    "UNITS",
    "RECIPE_UNITS",
    "SAMPLE_RATE_RANGE_HZ",
    "SEED_MAX",
    "check_sample_rate",
    "check_seed",
    "parse_positive_duration",
    "parse_tolerance",
    "check_scale",
    "arg_type",
]

# A decimal number with optional sign and exponent, or an infinity.
_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?|[+-]?inf(?:inity)?"
_NUM_UNIT = re.compile(rf"^\s*({_NUM})\s*(.*?)\s*$", re.IGNORECASE)
_BARE_NUM = re.compile(rf"^\s*(?:{_NUM})\s*$", re.IGNORECASE)


def quote(value) -> str:
    """Quote a value for a message: strings in double quotes, anything else as repr."""
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _split(value) -> tuple[float, str] | None:
    """Split ``"12.5 kHz"`` into ``(12.5, "khz")``; None when it does not start with a number."""
    m = _NUM_UNIT.match(value)
    if not m:
        return None
    num = float(m.group(1))
    unit = re.sub(r"\s+", " ", m.group(2).lower())
    return num, unit


# ---------------------------------------------------------------------------------- durations
_DURATION_HELP = (
    'expected seconds ("90s", "90"), minutes ("10m", "2.5min"), hours ("1h") or h:mm:ss '
    '("1:30:00")'
)
_DURATION_UNITS = {
    "ms": 0.001, "msec": 0.001, "millisecond": 0.001, "milliseconds": 0.001,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
}
_DURATION_TOKEN = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]+)\s*")
_CLOCK = re.compile(r"^\s*(\d+):(\d+(?:\.\d*)?)(?::(\d+(?:\.\d*)?))?\s*$")


#: the longest duration any time value may have (about 31 years): sample counts of every time
#: stay exact integers at any allowed rate, and no message prints a clock hundreds of digits long
MAX_DURATION_S = 1e9


def parse_duration(value, *, where: str | None = None) -> float:
    """Read a duration and return it in seconds.

    Parameters
    ----------
    value : float or str
        A number of seconds (``90``, ``2.5``) or a string: a number with a unit (``"90s"``,
        ``"90 s"``, ``"250ms"``, ``"10m"``, ``"10 min"``, ``"2.5min"``, ``"1h"``), several such
        parts from the largest unit down (``"1h30m"``, ``"1h 30m 15s"``), a bare number of
        seconds (``"90"``), ``"m:ss"`` (``"1:30"`` is 90 s) or ``"h:mm:ss"`` (``"1:30:00"``).
        In clock forms the minutes and seconds after the first field must be below 60.
    where : str, optional
        The file and place in it, passed to the error.

    Returns
    -------
    float
        Seconds, finite, from 0 to :data:`MAX_DURATION_S`. Zero is allowed; callers that
        need a positive duration check.

    Raises
    ------
    RecipeError
        When the value is not a duration, is negative, is not finite or is longer than
        :data:`MAX_DURATION_S`.
    """
    seconds = _duration(value, where)
    if not math.isfinite(seconds):
        raise RecipeError(f"{quote(value)} is not a finite duration: {_DURATION_HELP}", where)
    if seconds < 0:
        raise RecipeError(f"{quote(value)} is negative: a duration must be 0 or more", where)
    if seconds > MAX_DURATION_S:
        raise RecipeError(f"{quote(value)} is too long: a duration must be at most "
                          f"{MAX_DURATION_S:.0e} s (about 31 years)", where)
    return seconds


def _duration(value, where) -> float:
    if _is_number(value):
        return float(value)
    if not isinstance(value, str):
        raise RecipeError(f"{quote(value)} is not a time: {_DURATION_HELP}", where)
    text = value.strip().lower()
    if _BARE_NUM.match(text):
        return float(text)
    clock = _CLOCK.match(text)
    if clock:
        a, b, c = clock.groups()
        if c is None:  # m:ss
            if float(b) >= 60:
                raise RecipeError(f"{quote(value)} is not a time: {_DURATION_HELP}", where)
            return float(a) * 60.0 + float(b)
        if "." in b or float(b) >= 60 or float(c) >= 60:
            raise RecipeError(f"{quote(value)} is not a time: {_DURATION_HELP}", where)
        return float(a) * 3600.0 + float(b) * 60.0 + float(c)
    sign = 1.0
    if text.startswith("-"):
        sign, text = -1.0, text[1:]
    elif text.startswith("+"):
        text = text[1:]
    pos, total, last_scale = 0, 0.0, math.inf
    while pos < len(text):
        m = _DURATION_TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        scale = _DURATION_UNITS.get(m.group(2))
        if scale is None or scale >= last_scale:
            break  # unknown unit, or units not from the largest down ("30m1h", "1m1m")
        total += float(m.group(1)) * scale
        last_scale, pos = scale, m.end()
    else:
        if pos > 0:
            return sign * total
    raise RecipeError(f"{quote(value)} is not a time: {_DURATION_HELP}", where)


def format_duration(seconds: float) -> str:
    """Write a duration the way people read it in plans and messages.

    Parameters
    ----------
    seconds : float
        Duration in seconds (negative values get a leading ``-``).

    Returns
    -------
    str
        ``"h:mm:ss"`` from one hour up (``"1:30:00"``), ``"m:ss"`` from one minute up
        (``"2:05"``), both rounded to whole seconds; below a minute seconds with up to three
        decimals (``"45s"``, ``"1.5s"``, ``"0.25s"``). Non-finite values give ``"inf"`` or
        ``"nan"``.
    """
    s = float(seconds)
    if not math.isfinite(s):
        return "nan" if math.isnan(s) else ("-inf" if s < 0 else "inf")
    if s < 0:
        return "-" + format_duration(-s)
    r = round(s, 3)
    if r < 60:
        text = f"{r:.3f}".rstrip("0").rstrip(".")
        return f"{text}s"
    total = int(round(s))
    h, rest = divmod(total, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


# ---------------------------------------------------------------------- frequencies and rates
_FREQ_HELP = 'expected Hz ("6 Hz", "440hz", "6") or kHz ("1.5 kHz")'
_FREQ_UNITS = {"": 1.0, "hz": 1.0, "khz": 1000.0}


def parse_frequency(value, *, where: str | None = None) -> float:
    """Read a frequency and return it in Hz.

    Parameters
    ----------
    value : float or str
        A number of Hz (``6``, ``"6"``) or a string with a unit: ``"6 Hz"``, ``"6Hz"``,
        ``"440hz"``, ``"1.5 kHz"``.
    where : str, optional
        The file and place in it, passed to the error.

    Returns
    -------
    float
        Hz, finite and >= 0. Zero is allowed; callers decide what range makes sense.

    Raises
    ------
    RecipeError
        When the value is not a frequency, is negative or is not finite.
    """
    hz = _with_units(value, _FREQ_UNITS, "a frequency", _FREQ_HELP, where)
    return _non_negative(hz, value, "a frequency", where)


_RATE_HELP = (
    'expected a rate per minute ("6/min", "6 per min", "6 bpm", "6") or in Hz ("0.1 Hz")'
)
_RATE_UNITS = {
    "": 1.0, "/min": 1.0, "/ min": 1.0, "/minute": 1.0, "per min": 1.0, "per minute": 1.0,
    "bpm": 1.0, "breaths/min": 1.0, "breaths per min": 1.0, "breaths per minute": 1.0,
    "beats/min": 1.0, "beats per min": 1.0, "beats per minute": 1.0,
    "hz": 60.0, "/s": 60.0, "per s": 60.0, "per second": 60.0,
}


def parse_rate_per_min(value, *, where: str | None = None) -> float:
    """Read a slow rate (breaths or beats per minute) and return it per minute.

    Parameters
    ----------
    value : float or str
        A number per minute (``6``, ``"6"``) or a string: ``"6/min"``, ``"6 /min"``,
        ``"6 per min"``, ``"6 per minute"``, ``"6 bpm"`` (breaths or beats per minute),
        ``"6 breaths/min"``, or a frequency in Hz (``"0.1 Hz"`` is 6/min).
    where : str, optional
        The file and place in it, passed to the error.

    Returns
    -------
    float
        Events per minute, finite and >= 0.

    Raises
    ------
    RecipeError
        When the value is not a rate, is negative or is not finite.
    """
    rate = _with_units(value, _RATE_UNITS, "a rate", _RATE_HELP, where)
    return _non_negative(rate, value, "a rate", where)


# ---------------------------------------------------------------------------------- levels
_DB_HELP = 'expected decibels ("-18 dB", "-18dB", "-18") or "off" (-inf dB)'
_OFF_WORDS = ("off", "silent", "mute", "muted")


def parse_gain_db(value, *, where: str | None = None) -> float:
    """Read a gain in decibels.

    Parameters
    ----------
    value : float or str
        A number of dB (``-18``, ``"-18"``) or a string ``"-18 dB"``, ``"-18dB"``, ``"+3 dB"``;
        ``"-inf"``, ``"-inf dB"`` and ``"off"`` mean silence (-inf dB).
    where : str, optional
        The file and place in it, passed to the error.

    Returns
    -------
    float
        dB: finite, or ``-inf`` for silence. Positive gains are allowed; callers decide.

    Raises
    ------
    RecipeError
        When the value is not a gain, is NaN or is +inf.
    """
    if isinstance(value, str) and value.strip().lower() in _OFF_WORDS:
        return -math.inf
    db = _with_units(value, {"": 1.0, "db": 1.0}, "a gain", _DB_HELP, where)
    if math.isnan(db) or db == math.inf:
        raise RecipeError(f"{quote(value)} is not a usable gain: {_DB_HELP}", where)
    return db


def db_to_amplitude(db: float) -> float:
    """Convert dB to a linear amplitude: ``10 ** (db / 20)``; ``-inf`` gives 0.0."""
    return 0.0 if db == -math.inf else 10.0 ** (db / 20.0)


_LEVEL_HELP = (
    'expected decibels at or below 0 ("-18 dB", "-inf dB"), a linear amplitude from 0 to 1 '
    '("0.25"), a percentage from 0 to 100 ("25%") or "off"'
)


def parse_level(value, *, where: str | None = None) -> float:
    """Read a level and return it as a linear amplitude from 0 to 1.

    Two notations, told apart by the unit:

    * with ``dB`` it is decibels relative to full scale, at most 0 dB: ``"-18 dB"`` gives
      ``10 ** (-18 / 20)`` = 0.1259; ``"-inf dB"`` gives 0;
    * without a unit it is already a linear amplitude from 0 to 1: ``0.5``, ``"0.5"``;
      ``"50%"`` is the same as 0.5. ``"off"`` is 0.

    Note that a bare ``-18`` is *not* read as dB here (it is an amplitude out of range);
    use :func:`parse_gain_db` where a bare number should mean dB.

    Parameters
    ----------
    value : float or str
        The level.
    where : str, optional
        The file and place in it, passed to the error.

    Returns
    -------
    float
        Linear amplitude in [0, 1].

    Raises
    ------
    RecipeError
        When the value is not a level or lies outside the allowed range.
    """
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _OFF_WORDS:
            return 0.0
        parts = _split(text)
        if parts is None:
            raise RecipeError(f"{quote(value)} is not a level: {_LEVEL_HELP}", where)
        num, unit = parts
        if unit == "db":
            if math.isnan(num) or num > 0:
                raise RecipeError(f"{quote(value)} is not a level: {_LEVEL_HELP}", where)
            return db_to_amplitude(num)
        if unit == "%":
            amp = num / 100.0
        elif unit == "":
            amp = num
        else:
            raise RecipeError(f"{quote(value)} is not a level: {_LEVEL_HELP}", where)
    elif _is_number(value):
        amp = float(value)
    else:
        raise RecipeError(f"{quote(value)} is not a level: {_LEVEL_HELP}", where)
    if not (0.0 <= amp <= 1.0):  # also refuses NaN
        raise RecipeError(f"{quote(value)} is not a level: {_LEVEL_HELP}", where)
    return amp


_LUFS_HELP = 'expected an integrated loudness in LUFS ("-20 LUFS", "-20")'
_DBTP_HELP = 'expected a true peak in dBTP ("-1 dBTP", "-1")'


def parse_loudness(value, *, where: str | None = None) -> float:
    """Read a loudness target in LUFS (ITU-R BS.1770).

    Parameters
    ----------
    value : float or str
        ``-20``, ``"-20"``, ``"-20 LUFS"`` (``LKFS`` is accepted as the same unit).
    where : str, optional
        The file and place in it, passed to the error.

    Returns
    -------
    float
        LUFS, finite. Range checks (for example -30 to -10) are left to callers.
    """
    lufs = _with_units(value, {"": 1.0, "lufs": 1.0, "lkfs": 1.0}, "a loudness", _LUFS_HELP,
                       where)
    if not math.isfinite(lufs):
        raise RecipeError(f"{quote(value)} is not a usable loudness: {_LUFS_HELP}", where)
    return lufs


def parse_true_peak(value, *, where: str | None = None) -> float:
    """Read a true-peak ceiling in dBTP.

    Parameters
    ----------
    value : float or str
        ``-1``, ``"-1"``, ``"-1 dBTP"``.
    where : str, optional
        The file and place in it, passed to the error.

    Returns
    -------
    float
        dBTP, finite. Range checks are left to callers.
    """
    dbtp = _with_units(value, {"": 1.0, "dbtp": 1.0}, "a true peak", _DBTP_HELP, where)
    if not math.isfinite(dbtp):
        raise RecipeError(f"{quote(value)} is not a usable true peak: {_DBTP_HELP}", where)
    return dbtp


# ---------------------------------------------------------------------------------- ratios
_RATIO_HELP = 'expected a ratio of two positive numbers ("3:2", "3/2") or one number ("1.5")'
_RATIO = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*[:/]\s*(\d+(?:\.\d*)?|\.\d+)\s*$")


def parse_ratio(value, *, where: str | None = None) -> float:
    """Read a ratio and return it as one number.

    Parameters
    ----------
    value : float or str
        ``"3:2"`` or ``"3/2"`` (both 1.5), or a number ``1.5`` / ``"1.5"``.
    where : str, optional
        The file and place in it, passed to the error.

    Returns
    -------
    float
        The ratio, finite and > 0.

    Raises
    ------
    RecipeError
        When the value is not a ratio, or a part is zero, negative or not finite.
    """
    if isinstance(value, str):
        m = _RATIO.match(value)
        if m:
            a, b = float(m.group(1)), float(m.group(2))
            if a > 0 and b > 0:
                return a / b
            raise RecipeError(f"{quote(value)} is not a usable ratio: {_RATIO_HELP}", where)
    r = _with_units(value, {"": 1.0}, "a ratio", _RATIO_HELP, where)
    if not (math.isfinite(r) and r > 0):
        raise RecipeError(f"{quote(value)} is not a usable ratio: {_RATIO_HELP}", where)
    return r


# ---------------------------------------------------------------------------------- ranges
_RANGE_HELP = 'expected "lo..hi" with units ("2..10 Hz", "2 Hz..10 Hz", "-30..-12 dB") or a ' \
    "list of two values ([2, 10])"
_UNIT_TAIL = re.compile(rf"^\s*(?:{_NUM})\s*([a-z%/][a-z%/ ]*?)\s*$", re.IGNORECASE)


def parse_range(value, parser: Callable[..., float], *, where: str | None = None
                ) -> tuple[float, float]:
    """Read a pair of values in one unit: ``"2..10 Hz"`` -> ``(2.0, 10.0)``.

    Parameters
    ----------
    value : str or sequence of two values
        ``"lo..hi"`` where ``hi`` carries the unit and ``lo`` may leave it out (``"2..10 Hz"``,
        ``"-30..-12 dB"``), or both carry it (``"2 Hz..10 Hz"``); or a list or tuple of two
        values, each read by ``parser`` (``[2, 10]``, ``["2 Hz", "10 Hz"]``).
    parser : callable
        One of the ``parse_*`` functions of this module (any callable taking
        ``(value, *, where=None)`` and returning a float).
    where : str, optional
        The file and place in it, passed to the error.

    Returns
    -------
    (float, float)
        The two values in the order written. The order is kept (not sorted): ``"10..2 Hz"``
        gives ``(10.0, 2.0)``, which :func:`resonator.session.schedules.bind` reads as "10 Hz
        when cold, 2 Hz when hot".

    Raises
    ------
    RecipeError
        When the value is not a range, or either end fails ``parser``.
    """
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise RecipeError(f"{quote(list(value))} is not a range: {_RANGE_HELP}", where)
        return parser(value[0], where=where), parser(value[1], where=where)
    if not isinstance(value, str) or value.count("..") != 1 or "..." in value:
        raise RecipeError(f"{quote(value)} is not a range: {_RANGE_HELP}", where)
    lo, hi = (part.strip() for part in value.split(".."))
    if not lo or not hi:
        raise RecipeError(f"{quote(value)} is not a range: {_RANGE_HELP}", where)
    tail = _UNIT_TAIL.match(hi)
    if tail and _BARE_NUM.match(lo):
        lo = f"{lo} {tail.group(1)}"
    return parser(lo, where=where), parser(hi, where=where)


# ---------------------------------------------------------------------------------- words
def suggest(word: str, allowed: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """Return the allowed word closest to ``word``, for "did you mean ..." hints.

    Parameters
    ----------
    word : str
        What the person wrote.
    allowed : iterable of str
        The words that would have been accepted.
    cutoff : float
        Minimum similarity in [0, 1] (difflib ratio, compared case-insensitively).

    Returns
    -------
    str or None
        The only allowed word that starts with ``word`` (three letters or more), else the
        closest allowed word by similarity (in its original spelling), or None when none is
        close.
    """
    lowered = {}
    for option in allowed:
        lowered.setdefault(str(option).lower(), option)
    w = str(word).strip().lower()
    if len(w) >= 3:  # a unique allowed word that starts with what was written ("rate")
        prefixed = [k for k in lowered if k.startswith(w)]
        if len(prefixed) == 1:
            return lowered[prefixed[0]]
    hits = difflib.get_close_matches(w, list(lowered), n=1, cutoff=cutoff)
    return lowered[hits[0]] if hits else None


def did_you_mean(word, allowed: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the allowed word closest to ``word`` (see
    :func:`suggest`), or ``""`` when none is close: the one spelling of every such hint."""
    hint = suggest(str(word), allowed)
    return f"; did you mean '{hint}'?" if hint else ""


# ---------------------------------------------------------------------------------- numbers
def parse_number(value, *, where: str | None = None) -> float:
    """Read a plain finite number (``0.7``, ``"0.7"``); RecipeError otherwise."""
    if isinstance(value, bool):
        raise RecipeError(f"{quote(value)} is not a number", where)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise RecipeError(f"{quote(value)} is not a number", where) from None
    if not math.isfinite(x):
        raise RecipeError(f"{quote(value)} is not a finite number", where)
    return x


def parse_fraction(value, *, where: str | None = None) -> float:
    """Read a number from 0 to 1; RecipeError otherwise."""
    x = parse_number(value, where=where)
    if not 0.0 <= x <= 1.0:
        raise RecipeError(f"{quote(value)} is not a number between 0 and 1", where)
    return x


def parse_signed_frequency(value, *, where: str | None = None) -> float:
    """Read a frequency that may be negative (a signed binaural beat, left minus right):
    ``"-8 Hz"``, ``-8``, ``"6 Hz"``; in Hz."""
    if isinstance(value, str) and value.strip().startswith("-"):
        return -parse_frequency(value.strip()[1:], where=where)
    if _is_number(value) and float(value) < 0:
        return -parse_frequency(-float(value), where=where)
    return parse_frequency(value, where=where)


def _with_unit_word(*words: str) -> Callable[..., float]:
    """A parser of plain numbers optionally followed by one of ``words`` (any sign)."""
    units = {"": 1.0, **{w.lower(): 1.0 for w in words}}
    help_text = f'expected a number{" in " + words[0] if words else ""} ("1.5' + \
        (f' {words[0]}' if words else '') + '")'

    def parse(value, *, where: str | None = None) -> float:
        x = _with_units(value, units, "a number", help_text, where)
        if not math.isfinite(x):
            raise RecipeError(f"{quote(value)} is not a finite number", where)
        return x
    return parse


# ---------------------------------------------------------------------------------- units
@dataclass(frozen=True)
class Unit:
    """A unit values are written and reported in: the one table for recipes, layer
    parameters and check targets.

    Attributes
    ----------
    name : str
        Key in :data:`UNITS` (``"hz"``).
    label : str
        Printed after numbers (``"Hz"``; empty for plain numbers).
    doc : str
        How to write a value, for ``--help``, schemas and messages.
    parse : callable(value, *, where=None) -> float
        Reads a value (number or string with the unit) into the base unit.
    digits : int
        Decimals worth printing in reports (measurements are more precise than that only
        where the method says so).
    """

    name: str
    label: str
    doc: str
    parse: Callable[..., float]
    digits: int = 3

    def _labelled(self, text: str) -> str:
        if not self.label:
            return text
        return f"{text}{self.label}" if self.label.startswith("/") else f"{text} {self.label}"

    def format(self, value: float | None, digits: int | None = None) -> str:
        """``value`` with the unit's precision and label (``"6.200 Hz"``, ``"6.00/min"``);
        small values keep two significant digits (``"0.00040 Hz"``); ``"-"`` for None."""
        if value is None:
            return "-"
        v = float(value)
        if not math.isfinite(v):
            return self._labelled(str(v))
        d = self.digits if digits is None else digits
        if v != 0 and self.digits > 0:
            d = max(d, 1 - math.floor(math.log10(abs(v))))
        return self._labelled(f"{v:.{d}f}")

    def format_g(self, value: float) -> str:
        """``value`` in its shortest form with the label (``"6 Hz"``, plans and recipes)."""
        return self._labelled(f"{float(value):g}")


UNITS: dict[str, Unit] = {u.name: u for u in (
    Unit("hz", "Hz", 'frequency in Hz ("6 Hz", "1.5 kHz")', parse_frequency, 3),
    Unit("hz_signed", "Hz", 'frequency in Hz, negative allowed ("-8 Hz": a beat whose right '
         "ear is higher)", parse_signed_frequency, 3),
    Unit("db", "dB", 'gain in dB ("-18 dB")', parse_gain_db, 2),
    Unit("s", "s", 'duration in seconds ("90s", "10m", "1:30")', parse_duration, 2),
    Unit("per_min", "/min", 'rate per minute ("6/min")', parse_rate_per_min, 2),
    Unit("amp", "", 'linear amplitude 0..1 or "-6 dB"', parse_level, 3),
    Unit("fraction", "", "number between 0 and 1", parse_fraction, 3),
    Unit("number", "", "plain number", parse_number, 3),
    Unit("lufs", "LUFS", 'integrated loudness ("-20 LUFS")', parse_loudness, 2),
    Unit("dbtp", "dBTP", 'true peak ("-1 dBTP")', parse_true_peak, 2),
    Unit("lu", "LU", 'loudness difference in LU ("0.5 LU")', _with_unit_word("LU", "dB"), 2),
    Unit("db_diff", "dB", 'level difference in dB ("0.3 dB")', _with_unit_word("dB"), 2),
    Unit("db_per_decade", "dB/decade", 'spectral slope ("-10 dB/decade")',
         _with_unit_word("dB/decade", "dB"), 2),
    Unit("count", "", "a whole number of events", _with_unit_word(), 0),
    Unit("bpm", "BPM", 'tempo in beats per minute ("120 BPM")', _with_unit_word("BPM"), 2),
    Unit("ms", "ms", 'time in milliseconds ("10 ms")', _with_unit_word("ms"), 2),
)}
#: the units a recipe's numeric parameters may have (a :class:`Unit` each)
RECIPE_UNITS = ("hz", "db", "s", "per_min", "amp", "fraction", "number")


# ---------------------------------------------------------------------------------- helpers
def _with_units(value, units: dict[str, float], what: str, help_text: str, where) -> float:
    """Read ``number [unit]`` with the unit from ``units`` (``""`` = bare number allowed)."""
    if _is_number(value):
        if "" not in units:
            raise RecipeError(f"{quote(value)} is not {what}: {help_text}", where)
        return float(value) * units[""]
    if isinstance(value, str):
        parts = _split(value)
        if parts is not None:
            num, unit = parts
            scale = units.get(unit)
            if scale is None and unit.startswith("/ "):
                scale = units.get("/" + unit[2:])
            if scale is not None:
                return num * scale
    raise RecipeError(f"{quote(value)} is not {what}: {help_text}", where)


def _non_negative(x: float, value, what: str, where) -> float:
    if not math.isfinite(x):
        raise RecipeError(f"{quote(value)} is not a finite number: {what} must be finite", where)
    if x < 0:
        raise RecipeError(f"{quote(value)} is negative: {what} must be 0 or more", where)
    return x


# ------------------------------------------------------- values shared by recipes and the CLI
#: sample rates a recipe key or ``--rate`` may ask for, in Hz
SAMPLE_RATE_RANGE_HZ = (8000, 384000)
#: largest seed: a TOML integer (64-bit signed), so every seed can be written into a recipe
SEED_MAX = 2**63 - 1


def _whole(value, what: str, help_text: str, where, text: bool) -> int:
    if isinstance(value, bool) or (isinstance(value, str) and not text):
        raise RecipeError(f"{quote(value)} is not {what}: {help_text}", where)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    raise RecipeError(f"{quote(value)} is not {what}: {help_text}", where)


def check_sample_rate(value, *, where: str | None = None, text: bool = True) -> int:
    """A sample rate for ``sample_rate`` (recipes) and ``--rate`` (command line).

    Parameters
    ----------
    value : int or str
        Whole hertz, ``8000 <= value <= 384000`` (:data:`SAMPLE_RATE_RANGE_HZ`).
    where : str, optional
        The file and key, or the option, named in the error.
    text : bool
        Accept digits in a string (command-line values); recipes pass False (a TOML
        ``"48000"`` is a string, not a rate).

    Returns
    -------
    int
    """
    lo, hi = SAMPLE_RATE_RANGE_HZ
    help_text = f"a whole number of Hz from {lo} to {hi} (usually 44100 or 48000)"
    sr = _whole(value, "a sample rate", help_text, where, text)
    if not lo <= sr <= hi:
        raise RecipeError(f"{sr} Hz is outside the allowed sample rates: {help_text}", where)
    return sr


def check_seed(value, *, where: str | None = None, text: bool = True) -> int:
    """A seed for ``seed`` (recipes) and ``--seed``: a whole number from 0 to
    :data:`SEED_MAX` (2**63 - 1); ``text`` as in :func:`check_sample_rate`."""
    help_text = f"a whole number from 0 to {SEED_MAX} (2**63 - 1)"
    seed = _whole(value, "a seed", help_text, where, text)
    if not 0 <= seed <= SEED_MAX:
        raise RecipeError(f"{seed} is outside the allowed seeds: {help_text}", where)
    return seed


def parse_positive_duration(value, *, where: str | None = None, sr: float | None = None
                            ) -> float:
    """:func:`parse_duration`, refusing zero; with ``sr``, also anything shorter than one
    sample period."""
    seconds = parse_duration(value, where=where)
    if seconds <= 0:
        raise RecipeError(f"{quote(value)} must be longer than 0 s", where)
    if sr is not None and round(seconds * sr) < 1:
        raise RecipeError(f"{quote(value)} is shorter than one sample at {sr:g} Hz", where)
    return seconds


def parse_tolerance(value, parser: Callable[..., float] | None = None, *,
                    where: str | None = None) -> float:
    """A tolerance: finite and 0 or more (NaN, infinities and negative values are refused).

    Parameters
    ----------
    value : float or str
    parser : callable, optional
        A ``parse_*`` function of this module for values with units (``"0.1 Hz"``); default:
        :func:`parse_number`.
    """
    x = (parser or parse_number)(value, where=where)
    return _non_negative(float(x), value, "a tolerance", where)


def check_scale(value, *, where: str | None = None) -> float:
    """A multiplier such as ``--tolerance-scale``: finite and above 0."""
    x = parse_number(value, where=where)
    if x <= 0:
        raise RecipeError(f"{quote(value)} is not allowed: a scale factor must be a finite "
                          "number above 0", where)
    return x


def arg_type(check: Callable[..., object], name: str) -> Callable[[str], object]:
    """An argparse ``type=`` from a validator of this module: a refused value becomes argparse's
    one-line usage error naming the option (exit 2).

    ``name`` is how argparse names the type in its own messages (``"rate"``).
    """
    import argparse

    def convert(text: str):
        try:
            return check(text)
        except RecipeError as exc:
            raise argparse.ArgumentTypeError(exc.message) from None
    convert.__name__ = name
    return convert
