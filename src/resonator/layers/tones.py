"""Tone layers: binaural, monaural, isochronic, pulse and gamma (40 Hz).

Every builder returns a 2-channel node peaking at about 1 (the recipe applies gain, pan, fades
and phase gating). Frequencies that are constants or curves give phases from their exact
integrals, so the output is a pure function of time; frequencies from other nodes (bound to
the temperature) use a float64 running phase.

Target kinds emitted (``resonator check``):

``binaural_beat``  left-minus-right frequency in Hz (per-channel peak frequency); carries
                   ``carrier_hz`` as a search hint.
``am_rate``        rate in Hz of the envelope's modulation (Hilbert envelope spectrum).
``am_depth``       sine-equivalent depth ``2 |E(f)| / E0`` of the envelope.
``gated_depth``    ``1 - P2 / P98`` of the envelope (isochronic gates).
``gamma_share``    share of envelope modulation power in 38-42 Hz out of 1-100 Hz.
``splatter``       isochronic, pulse and gamma tone layers: energy outside the band the
                   pulse needs (:func:`resonator.measure.splatter.splatter_band`) over the
                   energy inside, in dB; at most the shape's planned value or -40 dB.
"""
from __future__ import annotations

import math

import numpy as np

from .._lazy import median
from ..graph.core import Constant, Node
from ..graph.oscillators import Sine
from ..graph.noise import Noise
from ..graph.stereo import Channels
from ..measure.splatter import (burst_train_lines, gated_tone_lines, line_splatter_db,
                                splatter_band)
from ._common import (
    TWO_PI,
    PhaseShaper,
    PhaseSine,
    PhaseSinePair,
    am_modulator,
    bounds_of,
    const,
    fail,
    inner_phases,
    integral_fn,
    around,
    freq_fn,
    pair_partials,
    param_targets,
    sample,
    spread_of,
)
from .base import LayerKind, LayerPlan, ParamInfo, Partial, register, varies, when, when_set
from .gates import GATES, MIN_EDGE_S, GateShape, gate_for, hann_burst, thump_burst


def _stereo(mono: Node) -> Node:
    return Channels([mono, mono])


def _tone_pair(carrier, beat, ctx):
    """(left, right) sines at carrier + beat/2 and carrier - beat/2 with exact phase."""
    c, b = const(carrier), const(beat)
    if c is not None and b is not None:
        return Sine(c + 0.5 * b), Sine(c - 0.5 * b)
    ci, bi = integral_fn(carrier), integral_fn(beat)
    if ci is not None and bi is not None:
        clo, chi = bounds_of(carrier, ctx.sr, ctx.duration_s)
        blo, bhi = bounds_of(beat, ctx.sr, ctx.duration_s)
        hi = chi + 0.5 * max(abs(blo), abs(bhi))
        lo = clo - 0.5 * max(abs(blo), abs(bhi))
        left = PhaseSine(lambda t: ci(t) + 0.5 * bi(t), (lo, hi))
        right = PhaseSine(lambda t: ci(t) - 0.5 * bi(t), (lo, hi))
        return left, right
    return Sine(carrier + 0.5 * beat), Sine(carrier - 0.5 * beat)


def _check_positive(node, ctx, param, lo=0.0):
    vlo, _ = bounds_of(node, ctx.sr, ctx.duration_s)
    if vlo <= lo:
        fail(ctx, param, f"must stay above {lo:g}, reaches {vlo:g}")


# ----------------------------------------------------------------------------- splatter
#: the splatter every pulsed layer's own shape promises at most (dB, outside its band)
SPLATTER_CEILING_DB = -40.0
#: how far a render's measured splatter may exceed its ceiling (dB)
SPLATTER_TOL_DB = 3.0


def splatter_targets(ctx, carrier, rate, lines, others=None, *, burst_s=None,
                     base_is_carrier: bool = True) -> list[dict]:
    """``splatter`` targets of a pulsed layer: one per phase where its sound holds still.

    In each phase (less a margin, :func:`~._common.inner_phases`) the carrier, the rate and
    ``others`` are sampled; where none moves by more than 0.1 %, the planned line spectrum
    ``lines(carrier_hz, rate_hz, values_of_others)`` gives the planned splatter
    (:func:`resonator.measure.splatter.line_splatter_db`) and the target expects at most
    ``max(planned, SPLATTER_CEILING_DB)`` within :data:`SPLATTER_TOL_DB`. A glide smears the
    lines, so phases where anything moves get no target; a layer with none at all gets one
    that ``check`` lists as skipped, with the reason.

    Hints for the measurement: ``splatter_band``, ``base_hz`` (the carrier of a gated tone,
    0 for a train of bursts that restart their carrier each period), ``rate_hz``,
    ``planned_db``.
    """
    others = others or {}
    out = []
    phases = inner_phases(ctx)
    for pname, a, b in phases:
        grid = np.linspace(a, b, 65)
        c = sample(carrier, grid, ctx.sr)
        r = sample(rate, grid, ctx.sr)
        vals = {k: sample(v, grid, ctx.sr) for k, v in others.items()}
        moving = [np.ptp(v) > 1e-3 * max(np.max(np.abs(v)), 1e-9)
                  for v in [c, r, *vals.values()]]
        if any(moving) or not (np.all(np.isfinite(c)) and np.all(np.isfinite(r))):
            continue
        c0, r0 = median(c), median(r)
        v0 = {k: median(v) for k, v in vals.items()}
        band = splatter_band(c0, r0, burst_s)
        planned = line_splatter_db(*lines(c0, r0, v0), band, ctx.sr)
        out.append({"kind": "splatter", "start_s": float(a), "end_s": float(b),
                    "expected": round(max(planned, SPLATTER_CEILING_DB), 1),
                    "tolerance": SPLATTER_TOL_DB, "layer": ctx.layer_name, "phase": pname,
                    "hints": {"splatter_band": band, "rate_hz": r0,
                              "base_hz": c0 if base_is_carrier else 0.0,
                              "planned_db": round(planned, 1)}})
    if not out and phases:
        pname, a, b = phases[0]
        out.append({"kind": "splatter", "start_s": float(a), "end_s": float(b),
                    "expected": SPLATTER_CEILING_DB, "tolerance": SPLATTER_TOL_DB,
                    "layer": ctx.layer_name, "phase": pname,
                    "hints": {"unmeasurable": "the carrier or the rate moves in every phase "
                              "(a glide smears the spectral lines splatter is read from)"}})
    return out


# ----------------------------------------------------------------------------- binaural
BINAURAL_PARAMS = {
    "carrier": ParamInfo("hz", 200.0, "carrier frequency (the pitch heard)", range=(20.0, 4000.0),
                         warn_range=(100.0, 1000.0)),
    "beat": ParamInfo("hz", 10.0, "beat frequency: left = carrier + beat/2, right = carrier - "
                      "beat/2", range=(-100.0, 100.0), warn_range=(0.5, 30.0)),
}


def build_binaural(params, ctx) -> Node:
    """Binaural beat: one sine per ear, left ``carrier + beat/2``, right ``carrier - beat/2``.

    Each channel's envelope is flat; the beat exists only as the rotating phase difference.
    """
    carrier, beat = params["carrier"], params["beat"]
    clo, _ = bounds_of(carrier, ctx.sr, ctx.duration_s)
    blo, bhi = bounds_of(beat, ctx.sr, ctx.duration_s)
    if clo - 0.5 * max(abs(blo), abs(bhi)) <= 0:
        fail(ctx, "beat", "half the beat must stay below the carrier (both tones above 0 Hz)")
    ci, bi = integral_fn(carrier), integral_fn(beat)
    if (const(carrier) is None or const(beat) is None) and ci is not None and bi is not None:
        # both ears from one evaluation of the two closed-form phases
        clo, chi = bounds_of(carrier, ctx.sr, ctx.duration_s)
        half = 0.5 * max(abs(blo), abs(bhi))
        return PhaseSinePair(carrier, beat, (clo - half, chi + half))
    left, right = _tone_pair(carrier, beat, ctx)
    return Channels([left, right])


def targets_binaural(params, ctx):
    carrier = const(params["carrier"])
    extra = {"carrier_hz": carrier} if carrier is not None else {}
    return param_targets("binaural_beat", params["beat"], ctx, tolerance=0.05, window_s=4.0,
                         extra=extra) + \
        param_targets("binaural_carrier", params["carrier"], ctx, tolerance=0.1, window_s=4.0)


def plan_binaural(params, ctx) -> LayerPlan:
    """One tone per ear at carrier +- beat/2."""
    carrier, beat = params["carrier"], params["beat"]
    return LayerPlan(partials=pair_partials(carrier, beat, ctx),
                     tonal_ranges=[around(carrier, ctx, 0.5 * spread_of(beat, ctx) + 2.0)],
                     carrier=carrier)


def cost_binaural(params) -> float:
    """Cost per second (:attr:`LayerKind.cost`; ``benchmarks/layer_costs.py``, 2026-12-05):
    0.21 with a constant carrier and beat, 0.60 with a beat bound to the temperature (its
    phase integral per frame)."""
    return 0.2 + (0.4 if varies(params["carrier"]) or varies(params["beat"]) else 0.0)


register(LayerKind("binaural", "binaural beat: a tone per ear, differing by the beat frequency",
                   BINAURAL_PARAMS, build_binaural, targets_binaural, plan_binaural,
                   cost=cost_binaural))


# ----------------------------------------------------------------------------- monaural
def build_monaural(params, ctx) -> Node:
    """Monaural beat: both tones (carrier +- beat/2) in both ears, a real envelope at the beat."""
    carrier, beat = params["carrier"], params["beat"]
    clo, _ = bounds_of(carrier, ctx.sr, ctx.duration_s)
    blo, bhi = bounds_of(beat, ctx.sr, ctx.duration_s)
    if clo - 0.5 * max(abs(blo), abs(bhi)) <= 0:
        fail(ctx, "beat", "half the beat must stay below the carrier (both tones above 0 Hz)")
    upper, lower = _tone_pair(carrier, beat, ctx)
    return _stereo(0.5 * (upper + lower))


def targets_monaural(params, ctx):
    return param_targets("am_rate", params["beat"], ctx, tolerance=0.05, window_s=4.0,
                         scale=1.0)


MONAURAL_PARAMS = {
    "carrier": ParamInfo("hz", 200.0, "centre frequency of the two tones", range=(20.0, 4000.0),
                         warn_range=(100.0, 1000.0)),
    "beat": ParamInfo("hz", 10.0, "beat frequency: tones at carrier +- beat/2 in both ears",
                      range=(0.1, 100.0), warn_range=(0.5, 40.0)),
}
def plan_monaural(params, ctx) -> LayerPlan:
    """Both tones (carrier +- beat/2) in both ears: an envelope at the beat."""
    carrier, beat = params["carrier"], params["beat"]
    b = spread_of(beat, ctx)
    lo, hi = around(carrier, ctx, b + 20.0)
    return LayerPlan(partials=pair_partials(carrier, beat, ctx, both_ears=True),
                     tonal_ranges=[around(carrier, ctx, 0.5 * b + 2.0)],
                     band=(max(10.0, lo), hi), carrier=carrier, rate=beat)


def cost_monaural(params) -> float:
    """Cost per second (``benchmarks/layer_costs.py``, 2026-12-05): 0.30 constant, 1.42 with
    a beat bound to the temperature."""
    return 0.3 + (1.1 if varies(params["carrier"]) or varies(params["beat"]) else 0.0)


register(LayerKind("monaural", "monaural beat: two tones in both ears, beating at the beat "
                   "frequency", MONAURAL_PARAMS, build_monaural, targets_monaural,
                   plan_monaural, cost=cost_monaural))


# ----------------------------------------------------------------------------- isochronic
ISOCHRONIC_PARAMS = {
    "carrier": ParamInfo("hz", 200.0, "tone that is gated", range=(20.0, 8000.0),
                         warn_range=(100.0, 1000.0)),
    "rate": ParamInfo("hz", 10.0, "gate rate (pulses per second)", range=(0.5, 60.0),
                      warn_range=(0.5, 40.0)),
    "gate": ParamInfo("choice", "soft", "shape of each pulse: soft (rounded pulses with silence "
                      "between, no clicks), sine (a continuous throb), brisk (quick onset, long "
                      "decay, long silence), sharp (crisp 5 ms edges, audible ticks)",
                      choices=tuple(GATES), automatable=False),
    "duty": ParamInfo("fraction", 0.0, "share of each cycle the gate is open, from the start of "
                      "the rise to the end of the fall; 0 = the gate's own (soft 0.6, sine 1, "
                      "brisk 0.35, sharp 0.5)", range=(0.0, 1.0), applies=when_set("duty")),
    "attack": ParamInfo("fraction", 0.0, "rise as a share of the period; 0 = the gate's own",
                        range=(0.0, 1.0), automatable=False, applies=when_set("attack")),
    "release": ParamInfo("fraction", 0.0, "fall as a share of the period; 0 = the gate's own",
                         range=(0.0, 1.0), automatable=False, applies=when_set("release")),
    "attack_s": ParamInfo("s", 0.0, "rise in seconds (instead of attack); 0 = unused",
                          range=(0.0, 1.0), automatable=False, applies=when_set("attack_s")),
    "release_s": ParamInfo("s", 0.0, "fall in seconds (instead of release); 0 = unused",
                           range=(0.0, 1.0), automatable=False, applies=when_set("release_s")),
    "depth": ParamInfo("fraction", 1.0, "how far the gate closes (1 = silence between pulses)",
                       range=(0.0, 1.0)),
}
def isochronic_gate(params) -> GateShape:
    """The gate shape of an isochronic layer's parameters (the preset with its overrides; a
    duty that changes over time is left to :meth:`GateShape.values`' ``duty`` argument)."""
    duty = const(params.get("duty", 0.0))
    return gate_for(params.get("gate", "soft"), duty=duty or 0.0,
                    attack=float(params.get("attack", 0.0)),
                    release=float(params.get("release", 0.0)),
                    attack_s=float(params.get("attack_s", 0.0)),
                    release_s=float(params.get("release_s", 0.0)))


def build_isochronic(params, ctx) -> Node:
    """Isochronic tone: a sine gated at ``rate`` by the chosen gate shape (never a hard gate).

    The gate (:mod:`resonator.layers.gates`) is a pure function of the rate's phase (exact
    integral when the rate is a constant or a curve): it rises from the start of each cycle,
    holds, falls, and is shut from ``duty`` to the end of the cycle; ``depth`` < 1 leaves a
    floor of ``1 - depth``. Edges that do not fit the open window shrink in proportion.
    """
    if params.get("gate", "soft") not in GATES:
        fail(ctx, "gate", f'"{params["gate"]}" is not a gate: allowed are {", ".join(GATES)}')
    for key in ("attack_s", "release_s"):
        v = float(params.get(key, 0.0))
        if 0.0 < v < MIN_EDGE_S:
            fail(ctx, key, f"must be at least {MIN_EDGE_S * 1000:g} ms (shorter edges click), "
                 f"got {v * 1000:g} ms")
    _check_positive(params["rate"], ctx, "rate")
    shape = isochronic_gate(params)
    duty_node = params.get("duty", Constant(0.0))
    dlo, _ = bounds_of(duty_node, ctx.sr, ctx.duration_s)
    duty_const = const(duty_node)
    if duty_const is None and dlo < 0.05:
        fail(ctx, "duty", f"a duty that changes over time must stay at or above 0.05, reaches "
             f"{dlo:g}")
    if duty_const is not None and 0.0 < duty_const < 0.05:
        fail(ctx, "duty", f"must be at least 0.05 (or 0 for the gate's own), got {duty_const:g}")
    _, rhi = bounds_of(params["rate"], ctx.sr, ctx.duration_s)
    open_s = ((duty_const or shape.duty) if duty_const is not None else dlo) / rhi
    if open_s < 2 * MIN_EDGE_S:
        fail(ctx, "duty", f"the gate is open {1000 * open_s:.2g} ms per cycle at {rhi:g} Hz; "
             f"it needs at least {2000 * MIN_EDGE_S:g} ms for a rise and a fall of "
             f"{1000 * MIN_EDGE_S:g} ms (shorter edges click)")
    depth = params["depth"]
    d = const(depth)
    extras = ([] if duty_const is not None else [duty_node]) + ([] if d is not None else [depth])

    def func(frac, rate, *ex):
        ex = list(ex)
        duty = ex.pop(0) if duty_const is None else None
        g = shape.values(frac, rate, duty)
        dd = ex.pop(0) if d is None else d
        return 1.0 - dd * (1.0 - g)

    gate = PhaseShaper(params["rate"], func, extras, label="IsochronicGate")
    return _stereo(Sine(params["carrier"], amplitude=gate))


def targets_isochronic(params, ctx):
    out = param_targets("am_rate", params["rate"], ctx, tolerance=0.05, window_s=4.0)
    d = const(params["depth"])
    if d is not None:
        out += param_targets("gated_depth", params["depth"], ctx, tolerance=0.05, window_s=4.0)
    shape = isochronic_gate(params)

    def lines(c, rate, v):
        gate = 1.0 - v["depth"] * (1.0 - shape.period(rate, duty=v["duty"] or shape.duty))
        return gated_tone_lines(gate, c, rate)
    out += splatter_targets(ctx, params["carrier"], params["rate"], lines,
                            {"duty": params.get("duty", 0.0), "depth": params["depth"]})
    return out


#: planned lines of a gated tone: carrier + k rate for |k| <= 7 with the square gate's
#: weights (0.5 at k = 0, |sin(pi k / 2) / (pi k)|), those under 0.01 left out
SIDEBANDS = [(k, 0.5 if k == 0 else abs(np.sin(np.pi * k / 2) / (np.pi * k)))
             for k in range(-7, 8)]


def plan_isochronic(params, ctx) -> LayerPlan:
    """The carrier and its gate's sidebands (carrier + k rate) in both ears; the gate shape
    when the duty holds still."""
    carrier, rate = params["carrier"], params["rate"]
    c, r = freq_fn(carrier, ctx.sr), freq_fn(rate, ctx.sr)
    partials = [Partial(ear, lambda t, k=k: np.abs(c(t) + k * r(t)), w,
                        "tone" if k == 0 else "sideband")
                for k, w in SIDEBANDS if w >= 0.01 for ear in (0, 1)]
    rmax = spread_of(rate, ctx)
    lo, hi = around(carrier, ctx, max(3.0 * rmax, 60.0))
    gate = isochronic_gate(params) if const(params.get("duty", 0.0)) is not None else None
    return LayerPlan(partials=partials, tonal_ranges=[around(carrier, ctx, 3.0 * rmax + 2.0)],
                     band=(max(10.0, lo), hi), carrier=carrier, rate=rate, gate=gate)


def cost_isochronic(params) -> float:
    """Cost per second (``benchmarks/layer_costs.py``, 2026-12-05): the soft gate 8.0, the
    sharp one 4.7."""
    return 4.7 if params["gate"] == "sharp" else 8.0


register(LayerKind("isochronic", "isochronic tone: a carrier gated on and off at a rate with "
                   "soft edges", ISOCHRONIC_PARAMS, build_isochronic, targets_isochronic,
                   plan_isochronic, cost=cost_isochronic))


# ----------------------------------------------------------------------------- pulse
PULSE_STYLES = ("thump", "click")

PULSE_PARAMS = {
    "rate": ParamInfo("hz", 4.0, "pulses per second", range=(0.5, 12.0),
                      applies=lambda p: not p.get("follow")),
    "style": ParamInfo("choice", "thump", "thump: a short decaying low sine burst; click: a short "
                       "band-limited click", choices=PULSE_STYLES, automatable=False),
    "pitch": ParamInfo("hz", 0.0, "frequency of the burst; 0 = the style's default (thump 60 Hz, "
                       "click 2 kHz)", range=(0.0, 8000.0), automatable=False,
                       applies=when_set("pitch")),
    "length_s": ParamInfo("s", 0.06, "length of one thump (raised-cosine swell over its first "
                          "30 %, raised-cosine decay over the rest)", range=(0.02, 0.2),
                          automatable=False, applies=when("style", "thump")),
    "follow": ParamInfo("text", "", "name of a music layer: one pulse on each of its beats "
                        "(rate is then not used)", automatable=False, applies=when_set("follow")),
}


def pulse_sound(params, ctx, *, warn: bool = False):
    """``(sound(tau_s), pitch_hz, length_s)`` of one pulse of a pulse layer's parameters.

    thump: :func:`~.gates.thump_burst` at ``pitch`` (60 Hz), ``length_s`` shortened to 80 % of
    the shortest period; click: a Hann-windowed 4-cycle burst (:func:`~.gates.hann_burst`) at
    ``pitch`` (2 kHz). Zero outside [0, length), peak about 1, click-free.
    """
    style = params["style"]
    if style not in PULSE_STYLES:
        fail(ctx, "style", f'"{style}" is not a pulse style: allowed are thump, click')
    pitch = float(params["pitch"]) or (60.0 if style == "thump" else 2000.0)
    if pitch >= 0.45 * ctx.sr:
        fail(ctx, "pitch", f"{pitch:g} Hz is too high for a {ctx.sr} Hz render")
    _check_positive(params["rate"], ctx, "rate")
    if style == "click":
        return hann_burst(pitch, 4.0 / pitch), pitch, 4.0 / pitch
    length = float(params["length_s"])
    _, rhi = bounds_of(params["rate"], ctx.sr, ctx.duration_s)
    if length > 0.8 / rhi:
        if warn:
            ctx.warn(f"pulse length_s {length:g} s is longer than 80 % of the pulse period at "
                     f"{rhi:g} Hz; shortened to {0.8 / rhi:.3f} s")
        length = 0.8 / rhi
    return thump_burst(pitch, length), pitch, length


def build_pulse(params, ctx) -> Node:
    """A train of soft low thumps (or short clicks) at ``rate`` per second, both ears.

    Each pulse starts where the rate's phase wraps; a pulse is a function of the time since
    its start, so the train is click-free and a pure function of the phase.
    """
    rate, phase0 = params["rate"], 0.0
    if params.get("follow"):
        from .music import followed_beats

        rate, phase0 = followed_beats(ctx, params["follow"]).rate_curve(1.0)
    sound, _, _ = pulse_sound(dict(params, rate=rate), ctx, warn=True)

    def func(frac, rate):
        return sound(frac / rate)

    return _stereo(PhaseShaper(rate, func, phase0=phase0, label="PulseTrain"))


def _burst_lines(sound, sr):
    """``lines(pitch, rate, values)`` of a train of ``sound`` bursts (for splatter_targets)."""
    def lines(_pitch, rate, _values):
        period = sound(np.arange(int(round(sr / rate))) / sr)
        return burst_train_lines(period, rate, sr)
    return lines


def targets_pulse(params, ctx):
    if params.get("follow"):
        return []  # on the music's beats: no steady rate to measure
    out = param_targets("am_rate", params["rate"], ctx, tolerance=0.05, window_s=4.0)
    sound, pitch, length = pulse_sound(params, ctx)
    out += splatter_targets(ctx, Constant(pitch), params["rate"], _burst_lines(sound, ctx.sr),
                            burst_s=length, base_is_carrier=False)
    return out


def plan_pulse(params, ctx) -> LayerPlan:
    """Short bursts around their pitch: a band, broadband (clicks spread wide)."""
    pitch = float(params["pitch"]) or (60.0 if params["style"] == "thump" else 2000.0)
    return LayerPlan(band=(max(10.0, 0.3 * pitch), 3.0 * pitch), broadband=True,
                     rate=params["rate"])


def cost_pulse(params) -> float:
    """Cost per second (``benchmarks/layer_costs.py``, 2026-12-05): thumps 5.3-5.9, clicks
    3.9."""
    return 3.9 if params["style"] == "click" else 5.6


register(LayerKind("pulse", "low-frequency pulse: soft thumps or clicks at a rate",
                   PULSE_PARAMS, build_pulse, targets_pulse, plan_pulse, cost=cost_pulse))


# ----------------------------------------------------------------------------- gamma
GAMMA_MODES = ("genus", "am")
GAMMA_SOURCES = ("tone", "pink", "white", "brown")

GAMMA_PARAMS = {
    "mode": ParamInfo("choice", "genus", "genus: 1 ms tone pips every 1/rate s (MIT GENUS); am: a "
                      "tone or noise amplitude-modulated at the rate", choices=GAMMA_MODES,
                      automatable=False),
    "rate": ParamInfo("hz", 40.0, "modulation rate", range=(30.0, 50.0)),
    "carrier": ParamInfo("hz", 0.0, "tone frequency; 0 = the mode's default (genus 10 kHz, am "
                         "400 Hz; 250-500 Hz drives the 40 Hz response best)",
                         range=(0.0, 16000.0), automatable=False, applies=when_set("carrier")),
    "pip_s": ParamInfo("s", 0.001, "genus pip length (raised-cosine window over the pip)",
                       range=(0.0005, 0.005), automatable=False, applies=when("mode", "genus")),
    "source": ParamInfo("choice", "tone", "am: what is modulated", choices=GAMMA_SOURCES,
                        automatable=False, applies=when("mode", "am")),
    "depth": ParamInfo("fraction", 1.0, "am: modulation depth (2|E(f)|/E0)", range=(0.0, 1.0),
                       applies=when("mode", "am")),
}


def build_gamma(params, ctx) -> Node:
    """A 40 Hz layer as real amplitude modulation (not a binaural beat), both ears.

    ``genus``: raised-cosine windowed tone pips of ``pip_s`` at ``carrier`` (10 kHz), one per
    cycle of ``rate``; each pip starts at phase 0 of its carrier. ``am``: a tone or noise times
    ``(1 + depth cos(2 pi rate t)) / (1 + depth)``.
    """
    mode = params["mode"]
    if mode not in GAMMA_MODES:
        fail(ctx, "mode", f'"{mode}" is not a gamma mode: allowed are genus, am')
    carrier = float(params["carrier"]) or (10000.0 if mode == "genus" else 400.0)
    if carrier >= 0.45 * ctx.sr:
        fail(ctx, "carrier", f"{carrier:g} Hz needs a sample rate above {carrier / 0.45:.0f} Hz "
             f"(the render uses {ctx.sr} Hz)")
    _check_positive(params["rate"], ctx, "rate")
    if mode == "genus":
        pip = float(params["pip_s"])
        _, rhi = bounds_of(params["rate"], ctx.sr, ctx.duration_s)
        if pip >= 0.5 / rhi:
            fail(ctx, "pip_s", f"{pip * 1000:g} ms pips do not fit half a cycle at {rhi:g} Hz")

        sound = hann_burst(carrier, pip)

        def func(frac, rate):
            return sound(frac / rate)

        return _stereo(PhaseShaper(params["rate"], func, label="GenusPips"))
    source = params["source"]
    if source not in GAMMA_SOURCES:
        fail(ctx, "source", f'"{source}" is not a source: allowed are {", ".join(GAMMA_SOURCES)}')
    mod = am_modulator(params["rate"], params["depth"])
    if source == "tone":
        return _stereo(Sine(carrier) * mod)
    return Noise(source, channels=2, amplitude=mod, name=f"{ctx.layer_name}/noise")


def targets_gamma(params, ctx):
    out = param_targets("am_rate", params["rate"], ctx, tolerance=0.05, window_s=4.0)
    d = const(params["depth"])
    if params["mode"] == "genus":
        share = 0.5
    elif d is not None and d >= 0.99:
        # measured: tone 1.00; pink noise 0.73 one ear, 0.82 with both ears' envelopes averaged
        share = 0.95 if params["source"] == "tone" else 0.75
    else:
        share = None
    if share is not None:
        tol = 0.15 if params["mode"] == "am" and params["source"] != "tone" else 0.1
        out += param_targets("gamma_share", Constant(share), ctx, tolerance=tol, window_s=4.0)
    carrier = float(params["carrier"]) or (10000.0 if params["mode"] == "genus" else 400.0)
    if params["mode"] == "am" and params["source"] == "tone":
        out += param_targets("am_depth", params["depth"], ctx, tolerance=0.05, window_s=4.0)

        def lines(c, rate, v):  # the AM gate: (1 + depth cos) / (1 + depth)
            u = (np.arange(256) + 0.5) / 256
            return gated_tone_lines((1 + v["depth"] * np.cos(TWO_PI * u)) / (1 + v["depth"]),
                                    c, rate)
        out += splatter_targets(ctx, Constant(carrier), params["rate"], lines,
                                {"depth": params["depth"]})
    elif params["mode"] == "genus":
        pip = float(params["pip_s"])
        out += splatter_targets(ctx, Constant(carrier), params["rate"],
                                _burst_lines(hann_burst(carrier, pip), ctx.sr), burst_s=pip,
                                base_is_carrier=False)
    return out


def plan_gamma(params, ctx) -> LayerPlan:
    """GENUS pips: +-3 kHz around their carrier; an AM tone: its carrier +- the modulation's
    lines; AM noise: broadband, noise-carried. Partials are not modelled (ranges only)."""
    mode, rate = params["mode"], params["rate"]
    carrier = float(params["carrier"]) or (10000.0 if mode == "genus" else 400.0)
    if mode == "am" and params["source"] != "tone":
        return LayerPlan(band=(200.0, math.inf), noise_carrier=True, broadband=True,
                         rate=rate)
    half = 3000.0 if mode == "genus" else 1.5 * spread_of(rate, ctx) + 10.0
    band = (max(20.0 if mode == "genus" else 10.0, carrier - half), carrier + half)
    return LayerPlan(tonal_ranges=[band], modelled=False, band=band, carrier=Constant(carrier),
                     rate=rate)


def cost_gamma(params) -> float:
    """Cost per second (``benchmarks/layer_costs.py``, 2026-12-05): GENUS pips 3.9, AM of a
    tone 0.32, AM of noise 0.69."""
    if params["mode"] == "genus":
        return 3.9
    return 0.3 if params["source"] == "tone" else 0.7


register(LayerKind("gamma", "40 Hz stimulation as real amplitude modulation (GENUS pips or AM)",
                   GAMMA_PARAMS, build_gamma, targets_gamma, plan_gamma, cost=cost_gamma))
