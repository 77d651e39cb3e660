"""Bed layers: noise, drone and bell.

Target kinds emitted (``resonator check``):

``lr_correlation``  correlation of left and right (noise: 0 for independent ears, 1 for mono).
``bell_strikes``    number of strikes in the window (with ``times_s``, the strike times).
``bell_pitch``      the pitch of each strike of one pitch.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import RecipeError
from ..graph.core import Constant, Node, Sum, TimeFunction
from ..graph.noise import COLORS, Noise
from ..graph.bank import SineBank
from ..graph.oscillators import Sine
from ..graph.stereo import Channels, Select
from ..kernels import grid_interp
from ..units import parse_duration, parse_ratio
from ._common import (
    am_modulator,
    TWO_PI,
    bounds_of,
    const,
    EventSum,
    fail,
    param_targets,
    raised_cosine,
    sample,
)
from .base import LayerKind, LayerPlan, ParamInfo, is_set, register, varies, when_set

try:  # swept biquads (graph/filters.py)
    from ..graph.filters import HighPass, LowPass
except ImportError:  # pragma: no cover - filters not available
    LowPass = HighPass = None


# ----------------------------------------------------------------------------- noise
NOISE_PARAMS = {
    "color": ParamInfo("choice", "pink", "noise colour", choices=COLORS, automatable=False),
    "stereo": ParamInfo("bool", True, "independent noise per ear (true) or the same in both "
                        "(false)", automatable=False),
    "lowpass": ParamInfo("hz", 0.0, "low-pass cutoff (2nd order); 0 = off", range=(0.0, 24000.0),
                         applies=when_set("lowpass")),
    "highpass": ParamInfo("hz", 0.0, "high-pass cutoff (2nd order); 0 = off",
                          range=(0.0, 24000.0), applies=when_set("highpass")),
    "mod_rate": ParamInfo("hz", 16.0, "amplitude-modulation rate (the Brain.fm approach: 16 Hz "
                          "for focus); used when mod_depth > 0", range=(0.1, 64.0),
                          applies=when_set("mod_depth")),
    "mod_depth": ParamInfo("fraction", 0.0, "amplitude-modulation depth 0..1 (0 = off); the "
                           "envelope's measured depth 2|E(f)|/E0 equals it", range=(0.0, 1.0)),
}


def _filter_on(node) -> bool:
    c = const(node)
    return c is None or c > 0


def build_noise(params, ctx) -> Node:
    """Coloured noise at RMS 0.25 (peaks near 1), optionally low- and high-passed.

    Cutoffs may vary (for example bound to temperature); the filters update on a fixed grid.
    """
    color = params["color"]
    if color not in COLORS:
        fail(ctx, "color", f'"{color}" is not a noise colour: allowed are {", ".join(COLORS)}')
    stereo = bool(params["stereo"])
    node: Node = Noise(color, channels=2 if stereo else 1, name=f"{ctx.layer_name}/noise")
    for key, maker in (("highpass", HighPass), ("lowpass", LowPass)):
        cutoff = params[key]
        if not _filter_on(cutoff):
            continue
        lo, hi = bounds_of(cutoff, ctx.sr, ctx.duration_s)
        if lo <= 0 or hi >= 0.5 * ctx.sr:
            fail(ctx, key, f"cutoff must stay between 0 and {0.5 * ctx.sr:g} Hz (half the sample "
                 f"rate), ranges {lo:g}..{hi:g} Hz")
        if maker is None:  # pragma: no cover
            ctx.warn(f"{key}: filters are not available in this build; ignored")
            continue
        node = maker(node, cutoff)
    if node.channels == 1:
        node = Channels([node, node])
    if _modulated(params):
        node = node * am_modulator(params["mod_rate"], params["mod_depth"])
    return node


def _modulated(params) -> bool:
    d = const(params.get("mod_depth", 0.0))
    return d is None or d > 0


#: the power spectrum's slope of each noise colour, dB per decade of frequency
COLOR_SLOPES = {"white": 0.0, "pink": -10.0, "brown": -20.0, "blue": 10.0, "violet": 20.0}


def targets_noise(params, ctx):
    expected = 0.0 if params["stereo"] else 1.0
    out = param_targets("lr_correlation", Constant(expected), ctx, tolerance=0.1, window_s=4.0)
    # its colour: the spectral slope (3 dB/decade tells pink from white or brown, 10 apart)
    out += param_targets("noise_slope", Constant(COLOR_SLOPES[params["color"]]), ctx,
                         tolerance=3.0, window_s=20.0)
    if _modulated(params):
        out += param_targets("am_rate", params["mod_rate"], ctx, tolerance=0.05, window_s=4.0)
        out += param_targets("am_depth", params["mod_depth"], ctx, tolerance=0.05, window_s=4.0)
    return out


def plan_noise(params, ctx) -> LayerPlan:
    """Broadband and noise-carried; its low-pass bounds it; modulated above 200 Hz."""
    lowpass = params["lowpass"]
    return LayerPlan(band=(200.0, math.inf), noise_carrier=True, broadband=True,
                     cutoff=lowpass if _filter_on(lowpass) else None,
                     rate=params["mod_rate"] if _modulated(params) else None,
                     colour_params=("lowpass",))


def cost_noise(params) -> float:
    """Cost per second (:attr:`LayerKind.cost`; ``benchmarks/layer_costs.py``, 2026-12-05):
    pink 0.5-0.6 (brown 0.8), each filter 0.45 more (0.6 when its cutoff changes), an
    amplitude modulation whose rate or depth changes 2.1 more (a constant one next to
    nothing)."""
    cost = 0.6 if params["color"] == "pink" else 0.9
    for key in ("highpass", "lowpass"):
        if _filter_on(params[key]):
            cost += 0.6 if varies(params[key]) else 0.45
    if _modulated(params) and (varies(params["mod_rate"]) or varies(params["mod_depth"])):
        cost += 2.1
    return cost


register(LayerKind("noise", "coloured noise bed, independent per ear or mono", NOISE_PARAMS,
                   build_noise, targets_noise, plan_noise, cost=cost_noise))


# ----------------------------------------------------------------------------- drone
DEFAULT_RATIOS = [1.0, 1.5, 2.0, 2.5]


def parse_ratios(values, ctx, param="ratios") -> list[float]:
    """Just-intonation ratios from strings ("3:2", "5/4") or numbers, each > 0."""
    if not isinstance(values, (list, tuple)) or not values:
        fail(ctx, param, f"expected a non-empty list of ratios such as [1, \"3:2\", 2], got "
             f"{values!r}")
    out = []
    for v in values:
        try:
            out.append(parse_ratio(v))
        except RecipeError as e:
            fail(ctx, param, e.message)
    return out


def _drift_lfos(count: int, drift: float):
    """Deterministic slow level LFOs of partials ``0 .. count-1``: ``t -> (count, len(t))``,
    partial ``k``'s row ``1 - drift/2 + drift/2 sin(...)``.

    Periods spread over 20-90 s by the golden ratio; phases from the partial index.
    """
    golden = 0.6180339887498949
    k = np.arange(count)
    period = (20.0 + 70.0 * ((k * golden + 0.37) % 1.0))[:, None]
    phase = ((k * 0.754877666 + 0.13) % 1.0)[:, None]

    def f(t):
        return 1.0 - 0.5 * drift + 0.5 * drift * np.sin(TWO_PI * (t[None, :] / period + phase))
    return f


DRONE_PARAMS = {
    "root": ParamInfo("hz", 110.0, "root frequency", range=(20.0, 4000.0),
                      warn_range=(40.0, 1000.0)),
    "ratios": ParamInfo("list", DEFAULT_RATIOS, "partials as just-intonation ratios of the root "
                        "(\"3:2\" or 1.5)", automatable=False,
                        applies=lambda p: not is_set(p.get("partials"))),
    "partials": ParamInfo("list", [], "partials in Hz (replaces root and ratios when given)",
                          automatable=False, applies=when_set("partials")),
    "brightness": ParamInfo("fraction", 0.5, "spectral tilt: 0 dark (levels fall as n^-2.5), 1 "
                            "bright (n^-0.5)", range=(0.0, 1.0)),
    "detune_cents": ParamInfo("number", 3.0, "detune between the ears (left up, right down by "
                              "half) for width", range=(0.0, 50.0), automatable=False),
    "drift": ParamInfo("fraction", 0.0, "depth of slow deterministic level LFOs on the partials "
                       "(periods 20-90 s); 0 = static", range=(0.0, 1.0), automatable=False),
}


def tilt_levels(ratios: np.ndarray, brightness: np.ndarray) -> np.ndarray:
    """Partial levels ``r^-(2.5 - 2 b)`` normalised to sum 1; shape (partials, times)."""
    b = np.atleast_1d(np.asarray(brightness, dtype=np.float64))
    lv = ratios[:, None] ** (-(2.5 - 2.0 * np.clip(b, 0.0, 1.0))[None, :])
    return lv / lv.sum(axis=0, keepdims=True)


class LevelBank(Node):
    """Levels of every drone partial (one channel each): brightness tilt times drift LFOs.

    Levels move slowly, so they are computed every :attr:`GRID` samples (absolute positions)
    and interpolated linearly: a pure function of time when brightness is a constant or a
    time function; brightness from another node is read per sample.
    """

    GRID = 64

    def __init__(self, ratios: np.ndarray, brightness, lfos):
        super().__init__()
        self.ratios = np.asarray(ratios, dtype=np.float64)
        self.brightness = brightness
        self.lfos = lfos
        self.channels = len(self.ratios)
        self._timefn = const(brightness) is not None or isinstance(brightness, TimeFunction)

    def inputs(self):
        return {} if const(self.brightness) is not None else {"brightness": self.brightness}

    def _levels(self, t, b):
        lv = tilt_levels(self.ratios, b)
        if self.lfos is not None:
            lv = lv * self.lfos(t)
        return lv

    def grid_block(self, ctx, start, frames):
        """``(first, grid, lv)``: the levels at frames ``first, first + grid, ...`` covering
        [start, start + frames] (``lv`` [shape=(partials, points)]), which :meth:`_process`
        interpolates linearly; None when brightness comes from a node (read per sample).
        :class:`~resonator.graph.bank.SineBank` interpolates them itself."""
        if not self._timefn:
            return None
        g = self.GRID
        first = (start // g) * g
        grid_n = np.arange(first, start + frames + g, g, dtype=np.float64)
        tg = grid_n / ctx.sr
        c = const(self.brightness)
        b = np.full(tg.shape, c) if c is not None else self.brightness.evaluate(tg)
        return first, g, np.ascontiguousarray(self._levels(tg, b))

    def _process(self, ctx, start, frames):
        grid = self.grid_block(ctx, start, frames)
        if grid is None:
            t = ctx.times(start, frames)
            return self._levels(t, ctx.pull(self.brightness, start, frames)[0])
        first, g, lv = grid
        out = np.empty((lv.shape[0], frames))
        grid_interp(lv, first, start, g, out)
        return out


def build_drone(params, ctx) -> Node:
    """A harmonic pad: sine partials with a brightness tilt, stereo detune and optional drift.

    Levels sum to 1 at every moment (peak at most 1), so brightness changes the colour more
    than the loudness. The left ear is detuned up by half of ``detune_cents``, the right down.
    """
    partials = params.get("partials") or []
    if partials:
        try:
            freqs = [float(p) for p in partials]
        except (TypeError, ValueError):
            fail(ctx, "partials", f"expected a list of frequencies in Hz, got {partials!r}")
        if min(freqs) <= 0:
            fail(ctx, "partials", "frequencies must be above 0 Hz")
        root: object = Constant(min(freqs))
        ratios = [f / min(freqs) for f in freqs]
    else:
        root = params["root"]
        ratios = parse_ratios(params["ratios"], ctx)
    r = np.array(ratios)
    rel = r / r.min()
    _, rhi = bounds_of(root, ctx.sr, ctx.duration_s)
    cents = float(params["detune_cents"])
    up, down = 2.0 ** (cents / 2400.0), 2.0 ** (-cents / 2400.0)
    if rhi * r.max() * up >= 0.45 * ctx.sr:
        fail(ctx, "ratios" if not partials else "partials",
             f"the highest partial reaches {rhi * r.max():g} Hz, too high for a {ctx.sr} Hz "
             "render")
    drift = float(params["drift"])
    bright = params["brightness"]
    bc = const(bright)
    lfos = _drift_lfos(len(r), drift) if drift > 0 else None
    rc = const(root)
    if rc is not None:
        # constant root: all partials of both ears in one fused kernel
        if bc is not None and lfos is None:
            bank_amps = [float(v) for v in tilt_levels(rel, bc)[:, 0]]
        else:
            levels = LevelBank(rel, bright, lfos)
            bank_amps = [(levels, k, 1.0, 0.0) for k in range(len(r))]
        freqs = [[rc * (float(rk) * up), rc * (float(rk) * down)] for rk in r]
        return SineBank(freqs, bank_amps)
    if bc is not None and lfos is None:
        amps = [Constant(float(v)) for v in tilt_levels(rel, bc)[:, 0]]
    else:
        bank = LevelBank(rel, bright, lfos)
        amps = [Select(bank, [k]) for k in range(len(r))]
    left = Sum([Sine(root * (float(rk) * up), amplitude=a) for rk, a in zip(r, amps)])
    right = Sum([Sine(root * (float(rk) * down), amplitude=a) for rk, a in zip(r, amps)])
    return Channels([left, right])


def plan_drone(params, ctx) -> LayerPlan:
    """Tonal ranges around its partials (their drifting levels are not modelled); its
    brightness sets its colour."""
    partials = params.get("partials") or []
    if partials:
        ranges = [(float(f) * 0.995, float(f) * 1.005) for f in partials]
    else:
        lo, hi = bounds_of(params["root"], ctx.sr, ctx.duration_s)
        ranges = [(lo * k * 0.995, hi * k * 1.005) for k in parse_ratios(params["ratios"], ctx)]
    return LayerPlan(tonal_ranges=ranges, modelled=False, colour_params=("brightness",))


def cost_drone(params) -> float:
    """Cost per second (``benchmarks/layer_costs.py``, 2026-12-05): 0.09 and 0.06 a partial
    (3 partials 0.29, 10 0.72), 0.4 more when the brightness changes or the partials drift
    (their levels computed per frame)."""
    n = len(params.get("partials") or params["ratios"])
    return 0.09 + 0.06 * n + (0.4 if varies(params["brightness"]) or params["drift"] > 0
                              else 0.0)


register(LayerKind("drone", "harmonic pad of just-intonation partials with stereo detune",
                   DRONE_PARAMS, build_drone, plan=plan_drone, cost=cost_drone))


# ----------------------------------------------------------------------------- bell
def strike_targets(times, pitches, decay_db_per_s: float, ctx, tolerance_hz: float = 0.2,
                   max_pitch_targets: int = 12) -> list[dict]:
    """Targets of struck tones: ``bell_strikes`` (every strike heard where planned) and one
    ``bell_pitch`` per distinct pitch (every strike of it at that pitch; at most
    ``max_pitch_targets``, spread over the pitches)."""
    times = np.asarray(times, dtype=np.float64)
    pitches = np.asarray(pitches, dtype=np.float64)
    if times.size == 0:
        return []
    hints = {"decay_db_per_s": float(decay_db_per_s)}
    out = [{"kind": "bell_strikes", "start_s": 0.0, "end_s": float(ctx.duration_s),
            "expected": int(times.size), "tolerance": 0, "times_s": times.tolist(),
            "pitches_hz": pitches.tolist(), "layer": ctx.layer_name, "hints": hints}]
    distinct = sorted(set(np.round(pitches, 2).tolist()))
    if len(distinct) > max_pitch_targets:
        distinct = [distinct[i] for i in
                    np.linspace(0, len(distinct) - 1, max_pitch_targets).round().astype(int)]
    for f in distinct:
        at = times[np.round(pitches, 2) == f]
        out.append({"kind": "bell_pitch", "start_s": 0.0, "end_s": float(ctx.duration_s),
                    "expected": float(f), "tolerance": tolerance_hz, "times_s": at.tolist(),
                    "pitches_hz": [float(f)] * at.size, "layer": ctx.layer_name,
                    "hints": hints})
    return out


BELL_RATIOS = np.array([1.0, 2.76, 5.40, 8.93])
BELL_LEVELS = np.array([1.0, 0.6, 0.35, 0.2])
BELL_DECAYS = np.array([1.0, 0.6, 0.35, 0.22])  # of decay_s, per partial
BELL_ATTACK_S = 0.004
LN_1000 = math.log(1000.0)

BELL_PARAMS = {
    "at": ParamInfo("choice", "phases", "strike at the start of every phase, or at the given "
                    "times", choices=("phases", "times"), automatable=False),
    "times": ParamInfo("list", [], "strike times (\"0s\", \"10m\", 90); used when given",
                       automatable=False, applies=when_set("times")),
    "pitch": ParamInfo("hz", 220.0, "fundamental of the bell (sampled at each strike)",
                       range=(40.0, 4000.0)),
    "decay_s": ParamInfo("s", 6.0, "time for the fundamental to fall by 60 dB",
                         range=(0.5, 30.0), automatable=False),
}


def strike_times(params, ctx) -> np.ndarray:
    """Sorted strike times in seconds within [0, duration)."""
    times = params.get("times") or []
    if times:
        out = []
        for v in times:
            try:
                out.append(parse_duration(v))
            except RecipeError as e:
                fail(ctx, "times", e.message)
        t = np.array(sorted(out))
    elif params.get("at", "phases") == "times":
        fail(ctx, "times", 'at = "times" needs a list of times, such as ["0s", "10m"]')
    else:
        t = np.array(sorted({float(a) for _, a, _ in ctx.phases} or {0.0}))
    return t[(t >= 0) & (t < ctx.duration_s)]


def bell_sound(pitch_hz: np.ndarray, decay_s: float, sr: int):
    """``sound(tau, k)``: one strike (peak about 1) for strike k with pitch ``pitch_hz[k]``.

    Inharmonic partials with a 4 ms raised-cosine attack and exponential decays; the tail is
    tapered to zero by a raised cosine over the last 20 % of the sound (no cut-off click).
    """
    length = decay_s * 80.0 / 60.0  # the fundamental is at -80 dB there
    norm = 1.0 / BELL_LEVELS.sum()

    def sound(tau, k):
        f0 = pitch_hz[k]
        env = raised_cosine(tau / BELL_ATTACK_S) * raised_cosine((length - tau) / (0.2 * length))
        out = np.zeros_like(tau)
        for ratio, level, dec in zip(BELL_RATIOS, BELL_LEVELS, BELL_DECAYS):
            f = ratio * f0
            ok = f < 0.45 * sr
            if not np.any(ok):
                continue
            tc = decay_s * dec / LN_1000
            out += np.where(ok, level * np.exp(-tau / tc) * np.sin(TWO_PI * f * tau), 0.0)
        return norm * env * out
    return sound, length


def build_bell(params, ctx) -> Node:
    """Struck bells: inharmonic partials 1, 2.76, 5.40, 8.93 with fast attack and long decay.

    Partials above 0.45 x the sample rate are left out. Output is a pure function of time.
    """
    times = strike_times(params, ctx)
    decay = float(params["decay_s"])
    pitch = sample(params["pitch"], times, ctx.sr) if times.size else np.zeros(0)
    if np.any(pitch <= 0):
        fail(ctx, "pitch", "must be above 0 Hz")
    if np.any(pitch >= 0.45 * ctx.sr):
        fail(ctx, "pitch", f"too high for a {ctx.sr} Hz render")
    sound, length = bell_sound(pitch, decay, ctx.sr)
    mono = EventSum(times, length, sound)
    return Channels([mono, mono])


def targets_bell(params, ctx):
    times = strike_times(params, ctx)
    pitch = sample(params["pitch"], times, ctx.sr) if times.size else np.zeros(0)
    # the fundamental falls 60 dB over decay_s
    return strike_targets(times, pitch, 60.0 / float(params["decay_s"]), ctx)


def plan_bell(params, ctx) -> LayerPlan:
    """Struck inharmonic partials: broadband at their strikes."""
    return LayerPlan(broadband=True)


# cost per second (benchmarks/layer_costs.py, 2026-12-05): 0.6 in a 5-minute session with
# the defaults (a bell at each phase start)
register(LayerKind("bell", "struck bell cues at phase starts or given times", BELL_PARAMS,
                   build_bell, targets_bell, plan_bell, cost=0.6))
