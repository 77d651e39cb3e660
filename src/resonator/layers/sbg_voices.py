"""Layer kinds for SBaGen's voices that the general kinds do not cover.

========== ==================================================================================
tone       a plain tone in both ears (SBaGen ``200/20``), sine or a band-limited waveform
wave       a binaural pair (left carrier + beat/2, right carrier - beat/2) with a band-limited
           waveform: square, triangle, sawtooth or a user waveform (SBaGen ``waveNN``)
spin       noise whose inter-ear delay swings sinusoidally (SBaGen ``spin:WIDTH+RATE/AMP``)
chime      SBaGen's bell: a pure sine struck at given times, decaying 15.1 dB a second
========== ==================================================================================

SBaGen's user waveforms (``waveNN: v v v ...``) are one half-period of samples: SBaGen rescales
them to 0..1, appends them negated, interpolates with a sinc to a 16384-point table and normalises
to full scale. Periodic sinc interpolation of the 2N-point period is exactly its Fourier series up
to harmonic N, so :func:`user_wave_harmonics` computes those harmonics and the ``wave`` layer adds
them up at the exact phase of each ear, leaving out harmonics at or above 0.45 x the sample rate
(with a smooth roll-off from 0.40, so a gliding tone never clicks when a harmonic drops out).
"""
from __future__ import annotations

import math

import numpy as np

from ..graph.core import Constant, Node, TimeFunction, as_node, nyquist_problem
from ..graph.noise import Noise
from ..graph.oscillators import Saw, Sine, Square, Triangle
from ..graph.stereo import Channels
from ._common import (
    TWO_PI,
    PhaseShaper,
    bounds_of,
    const,
    EventSum,
    fail,
    integral_fn,
    around,
    pair_partials,
    param_targets,
    raised_cosine,
    spread_of,
)
from .base import LayerKind, LayerPlan, ParamInfo, Partial, register

SHAPES = ("sine", "square", "triangle", "sawtooth", "custom")
MAX_HARMONICS = 64


# ----------------------------------------------------------------------------- waveforms
def user_wave_harmonics(samples) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(harmonic numbers, cosine and sine coefficients) of an SBaGen user waveform.

    The samples (one half-period) are rescaled to 0..1, followed by their negation, and the
    Fourier series of that 2N-point period is normalised to a peak of 1.
    """
    s = np.asarray([float(v) for v in samples], dtype=np.float64)
    if s.size < 2 or not np.all(np.isfinite(s)):
        raise ValueError("a waveform needs at least two finite samples")
    lo, hi = float(s.min()), float(s.max())
    if hi == lo:
        raise ValueError("all samples of the waveform are equal")
    s = (s - lo) / (hi - lo)
    period = np.concatenate([s, -s])
    n = period.size
    spec = np.fft.rfft(period) / n
    ks = np.arange(1, n // 2 + 1)
    coef = spec[1:n // 2 + 1] * 2.0
    if n % 2 == 0:
        coef[-1] *= 0.5  # Nyquist bin counted once
    a, b = coef.real, -coef.imag  # x = sum a cos(2 pi k p) + b sin(2 pi k p)
    keep = (np.abs(a) + np.abs(b)) > 1e-9
    ks, a, b = ks[keep][:MAX_HARMONICS], a[keep][:MAX_HARMONICS], b[keep][:MAX_HARMONICS]
    p = np.linspace(0.0, 1.0, 4096, endpoint=False)
    x = (a[:, None] * np.cos(TWO_PI * ks[:, None] * p) +
         b[:, None] * np.sin(TWO_PI * ks[:, None] * p)).sum(axis=0)
    peak = float(np.max(np.abs(x))) or 1.0
    return ks.astype(np.float64), a / peak, b / peak


class HarmonicWave(TimeFunction):
    """A sum of harmonics at a phase that is a closed-form function of time.

    ``phase_fn(t)`` gives the phase in cycles, ``freq_fn(t)`` the fundamental in Hz (for the
    band limit: harmonic k fades out as ``k * f`` goes from 0.40 to 0.45 x the sample rate).
    """

    def __init__(self, phase_fn, freq_fn, ks, a, b, *, name=None):
        super().__init__(name=name)
        self.phase_fn, self.freq_fn = phase_fn, freq_fn
        self.ks, self.a, self.b = ks, a, b
        self._sr = None

    def describe(self):
        return f"HarmonicWave({self.ks.size} harmonics)"

    def bounds(self):
        return (-1.0, 1.0)

    def _prepare(self, ctx):
        self._sr = ctx.sr

    def evaluate(self, t):
        t = np.asarray(t, dtype=np.float64)
        ph = self.phase_fn(t)
        frac = ph - np.floor(ph)
        f = np.abs(np.broadcast_to(self.freq_fn(t), t.shape))
        sr = self._sr or 48000
        out = np.zeros(t.shape)
        for k, a, b in zip(self.ks, self.a, self.b):
            fk = k * f
            if np.min(fk) >= 0.45 * sr:
                break
            g = 1.0 - raised_cosine((fk / sr - 0.40) / 0.05)
            x = (TWO_PI * ((k * frac) % 1.0)).astype(np.float32)
            v = np.zeros(t.shape, dtype=np.float32)
            if a:
                v += np.float32(a) * np.cos(x)
            if b:
                v += np.float32(b) * np.sin(x)
            out += g * v
        return out


def _value_fn(node):
    c = const(node)
    if c is not None:
        return lambda t: np.full(np.shape(t), c)
    if isinstance(node, TimeFunction):
        return node.evaluate
    return None


def _shape_osc(shape: str, freq):
    return {"sine": Sine, "square": Square, "triangle": Triangle, "sawtooth": Saw}[shape](freq)


def _ear(shape, samples, carrier, beat, sign: float, ctx) -> Node:
    """One ear's tone at carrier + sign * beat / 2 with the given waveform."""
    ci, bi = integral_fn(carrier), integral_fn(beat)
    cf, bf = _value_fn(carrier), _value_fn(beat)
    if shape == "custom":
        try:
            ks, a, b = user_wave_harmonics(samples)
        except ValueError as exc:
            fail(ctx, "samples", str(exc))
        if ci is None or bi is None or cf is None or bf is None:
            fail(ctx, "carrier", "a custom waveform needs constant or curve frequencies")
        return HarmonicWave(lambda t: ci(t) + sign * 0.5 * bi(t),
                            lambda t: cf(t) + sign * 0.5 * bf(t), ks, a, b)
    c, bb = const(carrier), const(beat)
    if c is not None and bb is not None:
        return _shape_osc(shape, c + sign * 0.5 * bb)
    if shape == "sine" and ci is not None and bi is not None:
        from ._common import PhaseSine
        clo, chi = bounds_of(carrier, ctx.sr, ctx.duration_s)
        blo, bhi = bounds_of(beat, ctx.sr, ctx.duration_s)
        m = 0.5 * max(abs(blo), abs(bhi))
        return PhaseSine(lambda t: ci(t) + sign * 0.5 * bi(t), (clo - m, chi + m))
    return _shape_osc(shape, as_node(carrier) + as_node(beat) * (sign * 0.5))


def _check_freqs(carrier, beat, ctx):
    clo, chi = bounds_of(carrier, ctx.sr, ctx.duration_s)
    blo, bhi = bounds_of(beat, ctx.sr, ctx.duration_s)
    m = 0.5 * max(abs(blo), abs(bhi))
    problem = nyquist_problem("an ear", 0.0, chi + m, ctx.sr)
    if problem:
        fail(ctx, "carrier", problem)


def _check_shape(params, ctx):
    shape = params["shape"]
    if shape not in SHAPES:
        fail(ctx, "shape", f'"{shape}" is not a shape: allowed are {", ".join(SHAPES)}')
    if shape == "custom" and not params["samples"]:
        fail(ctx, "samples", "shape \"custom\" needs samples = [v, v, ...] (one half-period)")
    return shape


WAVE_PARAMS = {
    "carrier": ParamInfo("hz", 200.0, "carrier frequency (SBaGen's -p slide takes it down to "
                         "beat/2, so anything below Nyquist is allowed)", range=(0.0, 20000.0),
                         warn_range=(20.0, 1500.0)),
    "beat": ParamInfo("number", 0.0, "beat in Hz, signed: left = carrier + beat/2, right = "
                      "carrier - beat/2 (negative: the right ear is higher, SBaGen 200-10)",
                      range=(-100.0, 100.0)),
    "shape": ParamInfo("choice", "sine", "waveform (band-limited); custom takes samples",
                       choices=SHAPES, automatable=False),
    "samples": ParamInfo("list", [], "custom waveform: one half-period of samples, as in SBaGen's "
                         "waveNN lines (rescaled to 0..1 and followed by their negation)",
                         automatable=False),
}


def build_wave(params, ctx) -> Node:
    """A binaural pair with a band-limited waveform (left carrier + beat/2)."""
    shape = _check_shape(params, ctx)
    carrier, beat = params["carrier"], params["beat"]
    _check_freqs(carrier, beat, ctx)
    left = _ear(shape, params["samples"], carrier, beat, +1.0, ctx)
    right = _ear(shape, params["samples"], carrier, beat, -1.0, ctx)
    return Channels([left, right])


def _signed(targets):
    """Expected beats as text with a unit ("-8 Hz"): negative numbers are not frequencies."""
    for t in targets:
        t["expected"] = f"{float(t['expected']):.6g} Hz"
    return targets


def _measurable(targets, carrier, beat, ctx, band=(60.0, 1400.0)):
    """Keep targets whose window keeps both ears inside ``band`` (SBaGen's ``-p slide`` takes
    the carrier down to beat/2, where no ear can be measured)."""
    from ._common import sample
    out = []
    for t in targets:
        grid = np.linspace(t["start_s"], t["end_s"], 9)
        c, b = sample(carrier, grid, ctx.sr), np.abs(sample(beat, grid, ctx.sr))
        if np.min(c - 0.5 * b) >= band[0] and np.max(c + 0.5 * b) <= band[1]:
            out.append(t)
    return out


def targets_wave(params, ctx):
    carrier = const(params["carrier"])
    extra = {"carrier_hz": carrier} if carrier is not None else {}
    found = param_targets("binaural_beat", params["beat"], ctx, tolerance=0.05, window_s=4.0,
                          extra=extra)
    return _signed(_measurable(found, params["carrier"], params["beat"], ctx))


#: harmonics of a waveform weaker than this (relative to the fundamental) are not planned
MIN_HARMONIC = 0.003


def shape_harmonics(params) -> list[tuple[int, float]]:
    """(harmonic number, amplitude relative to the fundamental) of a layer's waveform:
    1/k odd (square), 1/k^2 odd (triangle), 1/k (sawtooth), a user waveform's series."""
    shape = params.get("shape", "sine")
    if shape == "custom":
        ks, a, b = user_wave_harmonics(params["samples"])
        amp = np.hypot(a, b)
        ref = float(amp[ks == 1][0]) if np.any(ks == 1) else float(amp.max())
        return [(int(k), float(v / ref)) for k, v in zip(ks, amp) if v / ref >= MIN_HARMONIC]
    weight = {"sine": lambda k: float(k == 1), "square": lambda k: (k % 2) / k,
              "triangle": lambda k: (k % 2) / k ** 2, "sawtooth": lambda k: 1.0 / k}[shape]
    return [(k, weight(k)) for k in range(1, MAX_HARMONICS) if weight(k) >= MIN_HARMONIC]


def plan_wave(params, ctx) -> LayerPlan:
    """A tone per ear at carrier +- beat/2 with its waveform's harmonics."""
    carrier, beat = params["carrier"], params["beat"]
    lo, hi = around(carrier, ctx, 0.5 * spread_of(beat, ctx) + 2.0)
    return LayerPlan(partials=pair_partials(carrier, beat, ctx, shape_harmonics(params)),
                     tonal_ranges=[(max(1.0, lo), hi)], carrier=carrier)


# cost per second (benchmarks/layer_costs.py, 2026-12-05): 0.24
register(LayerKind("wave", "binaural pair with a band-limited waveform (square, triangle, "
                   "sawtooth or an SBaGen user waveform)", WAVE_PARAMS, build_wave,
                   targets_wave, plan_wave, cost=0.25))

TONE_PARAMS = {
    "frequency": ParamInfo("hz", 200.0, "frequency of the tone (both ears)",
                           range=(20.0, 8000.0)),
    "shape": WAVE_PARAMS["shape"],
    "samples": WAVE_PARAMS["samples"],
}


def build_tone(params, ctx) -> Node:
    """A plain tone, the same in both ears (SBaGen's ``CARRIER/AMP``)."""
    shape = _check_shape(params, ctx)
    freq = params["frequency"]
    _check_freqs(freq, Constant(0.0), ctx)
    mono = _ear(shape, params["samples"], freq, Constant(0.0), 1.0, ctx)
    return Channels([mono, mono])


def targets_tone(params, ctx):
    f = const(params["frequency"])
    extra = {"carrier_hz": f} if f is not None else {}
    return param_targets("binaural_beat", Constant(0.0), ctx, tolerance=0.05, window_s=4.0,
                         extra=extra)


def plan_tone(params, ctx) -> LayerPlan:
    """The same tone in both ears with its waveform's harmonics."""
    freq = params["frequency"]
    lo, hi = around(freq, ctx, 2.0)
    return LayerPlan(partials=pair_partials(freq, Constant(0.0), ctx, shape_harmonics(params)),
                     tonal_ranges=[(max(1.0, lo), hi)], carrier=freq)


# cost per second (benchmarks/layer_costs.py, 2026-12-05): 0.16
register(LayerKind("tone", "a plain tone in both ears (sine or a band-limited waveform)",
                   TONE_PARAMS, build_tone, targets_tone, plan_tone, cost=0.16))


# ----------------------------------------------------------------------------- spin
SPIN_MAX_DELAY_SAMPLES = 127  # SBaGen clips the swing to +-127 samples of its noise buffer


class SpinNoise(Node):
    """Mono noise played to the two ears with a delay swinging at ``rate``.

    Left ear ``x(n - D + d(n))``, right ear ``x(n - D - d(n))``, with
    ``d = width_us * 1e-6 * sr * sin(2 pi phase(rate))`` samples (linear interpolation) and a
    fixed base delay ``D`` so both stay causal, as in SBaGen (which reads its noise buffer at
    ``+-d`` around a point 128 samples back).
    """

    def __init__(self, noise: Node, rate, width_us, max_width_us: float, *, name=None):
        super().__init__(name=name)
        self.noise = noise
        self.swing = PhaseShaper(rate, lambda frac, r: np.sin(TWO_PI * frac), label="SpinLFO")
        self.width = as_node(width_us, "width")
        self.max_width_us = float(max_width_us)
        self.channels = 2

    def inputs(self):
        return {"noise": self.noise, "swing": self.swing, "width": self.width}

    def describe(self):
        return "SpinNoise"

    def _prepare(self, ctx):
        self._maxd = min(SPIN_MAX_DELAY_SAMPLES, self.max_width_us * 1e-6 * ctx.sr)
        self._D = int(math.ceil(self._maxd)) + 2
        self._H = 2 * self._D + 2
        self.warmup_frames = self._H + 1

    def _reset(self, ctx, start):
        self._hist = np.zeros(self._H)

    def _process(self, ctx, start, frames):
        x = ctx.pull(self.noise, start, frames)[0]
        s = np.broadcast_to(ctx.pull(self.swing, start, frames)[0], (frames,))
        w = ctx.pull_param(self.width, start, frames)
        w = w if isinstance(w, float) else w[0]
        d = np.clip(np.asarray(w) * 1e-6 * ctx.sr, -self._maxd, self._maxd) * s
        buf = np.concatenate([self._hist, x])
        base = self._H + np.arange(frames) - self._D
        out = np.empty((2, frames))
        for c, sign in enumerate((1.0, -1.0)):
            pos = base + sign * d
            i0 = np.floor(pos).astype(np.int64)
            fr = pos - i0
            out[c] = buf[i0] * (1.0 - fr) + buf[i0 + 1] * fr
        self._hist = buf[-self._H:].copy()
        return out


SPIN_PARAMS = {
    "color": ParamInfo("choice", "pink", "noise colour", choices=("pink", "white", "brown"),
                       automatable=False),
    "width": ParamInfo("number", 300.0, "largest inter-ear delay swing in microseconds (SBaGen "
                       "clips it to 127 samples)", range=(0.0, 20000.0)),
    "rate": ParamInfo("number", 1.0, "swings per second in Hz (the sign sets the direction)",
                      range=(-100.0, 100.0)),
}


def build_spin(params, ctx) -> Node:
    """Spinning noise (SBaGen ``spin:``): mono noise with a swinging inter-ear delay."""
    _, whi = bounds_of(params["width"], ctx.sr, ctx.duration_s)
    wlo, _ = bounds_of(params["width"], ctx.sr, ctx.duration_s)
    limit = SPIN_MAX_DELAY_SAMPLES / ctx.sr * 1e6
    if max(abs(wlo), abs(whi)) > limit:
        ctx.warn(f"{ctx.where}: spin width {max(abs(wlo), abs(whi)):g} us is more than SBaGen's "
                 f"limit of 127 samples ({limit:.0f} us at {ctx.sr} Hz); clipped to it")
    noise = Noise(params["color"], channels=1, name=f"{ctx.layer_name}/noise")
    return SpinNoise(noise, params["rate"], params["width"], max(abs(wlo), abs(whi)),
                     name=f"{ctx.layer_name}/spin")


def plan_spin(params, ctx) -> LayerPlan:
    """Noise: broadband and noise-carried."""
    return LayerPlan(noise_carrier=True, broadband=True)


# cost per second (benchmarks/layer_costs.py, 2026-12-05): 4.4
register(LayerKind("spin", "noise with an inter-ear delay swinging at a rate (SBaGen spin)",
                   SPIN_PARAMS, build_spin, plan=plan_spin, cost=4.4))


# ----------------------------------------------------------------------------- chime
#: SBaGen's bell decay: amplitude times 11/12 every 50 ms (20 log10(11/12) dB per 50 ms: -15.1 dB/s)
BELL_DECAY_DB_PER_S = 20 * 20 * math.log10(11 / 12)

CHIME_PARAMS = {
    "times": ParamInfo("list", [], "strike times in seconds (or durations \"1:30\")",
                       automatable=False),
    "pitches": ParamInfo("list", [], "frequency of each strike in Hz (one value: all)",
                         automatable=False),
    "amps": ParamInfo("list", [], "starting amplitude 0..1 of each strike (one value: all)",
                      automatable=False),
    "decay_db_per_s": ParamInfo("number", -BELL_DECAY_DB_PER_S, "decay rate in dB per second "
                                "(SBaGen: 15.1)", range=(1.0, 200.0), automatable=False),
}
CHIME_ATTACK_S = 0.002


def chime_strikes(params, ctx):
    """(times_s, pitches_hz, amps) of a chime layer's strikes, in time order."""
    from ..errors import RecipeError
    from ..units import parse_duration
    try:
        times = np.array([parse_duration(t) for t in params["times"]], dtype=np.float64)
        pitches = np.broadcast_to(np.asarray(params["pitches"] or [440.0], float), times.shape)
        amps = np.broadcast_to(np.asarray(params["amps"] or [1.0], float), times.shape)
    except (RecipeError, TypeError, ValueError) as exc:
        fail(ctx, "times", f"times, pitches and amps must be lists of equal length ({exc})")
    order = np.argsort(times, kind="stable")
    return times[order], np.array(pitches)[order], np.array(amps)[order]


def build_chime(params, ctx) -> Node:
    """SBaGen's bell: a sine at each strike's pitch, starting at its amplitude (after a 2 ms
    raised-cosine attack instead of SBaGen's click) and falling ``decay_db_per_s``."""
    times, pitches, amps = chime_strikes(params, ctx)
    if np.any(pitches <= 0) or np.any(pitches >= 0.45 * ctx.sr):
        fail(ctx, "pitches", f"must be above 0 and below {0.45 * ctx.sr:g} Hz")
    rate = float(params["decay_db_per_s"])
    length = 80.0 / rate  # to -80 dB
    k = math.log(10.0) / 20.0 * rate

    def sound(tau, idx):
        env = raised_cosine(tau / CHIME_ATTACK_S) * np.exp(-k * tau)
        return amps[idx] * env * np.sin(TWO_PI * pitches[idx] * tau)

    mono = EventSum(times, length, sound)
    return Channels([mono, mono])


#: a chime's partial is planned to sound this long after its strike (15 dB/s: -60 dB)
CHIME_RING_S = 4.0


def plan_chime(params, ctx) -> LayerPlan:
    """One struck sine per pitch in both ears, sounding after each of its strikes."""
    times, pitches, _ = chime_strikes(params, ctx)
    partials = []
    for f in sorted(set(pitches.tolist())):
        at = tuple(float(t) for t in times[pitches == f])
        partials += [Partial(ear, lambda t, f=f: np.full(np.shape(t), f), 1.0, "strike", at,
                             CHIME_RING_S) for ear in (0, 1)]
    return LayerPlan(partials=partials,
                     tonal_ranges=[(f - 2.0, f + 2.0) for f in sorted(set(pitches.tolist()))])


def targets_chime(params, ctx):
    """Every strike heard where planned, and the pitch of each (one target per pitch)."""
    from .beds import strike_targets

    times, pitches, _ = chime_strikes(params, ctx)
    inside = (times >= 0) & (times < ctx.duration_s)
    return strike_targets(times[inside], pitches[inside], float(params["decay_db_per_s"]), ctx)


# cost per second (benchmarks/layer_costs.py, 2026-12-05): 0.27
register(LayerKind("chime", "SBaGen's bell: pure struck sines decaying 15 dB a second",
                   CHIME_PARAMS, build_chime, targets_chime, plan_chime, cost=0.3))

__all__ = ["HarmonicWave", "SpinNoise", "user_wave_harmonics"]
