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
"""
from __future__ import annotations

import numpy as np

from ..graph.core import Constant, Node
from ..graph.oscillators import Sine
from ..graph.noise import Noise
from ..graph.stereo import Channels
from ._common import (
    TWO_PI,
    PhaseShaper,
    PhaseSine,
    PhaseSinePair,
    am_modulator,
    bounds_of,
    const,
    fail,
    integral_fn,
    param_targets,
    raised_cosine,
)
from .base import LayerKind, ParamInfo, register


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


# ----------------------------------------------------------------------------- binaural
BINAURAL_PARAMS = {
    "carrier": ParamInfo("hz", 200.0, "carrier frequency (the pitch heard)", range=(20.0, 4000.0),
                         warn_range=(100.0, 1000.0)),
    "beat": ParamInfo("hz", 10.0, "beat frequency: left = carrier + beat/2, right = carrier - "
                      "beat/2", range=(-100.0, 100.0), warn_range=(0.5, 40.0)),
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
        return PhaseSinePair(ci, lambda t: 0.5 * bi(t), (clo - half, chi + half))
    left, right = _tone_pair(carrier, beat, ctx)
    return Channels([left, right])


def targets_binaural(params, ctx):
    carrier = const(params["carrier"])
    extra = {"carrier_hz": carrier} if carrier is not None else {}
    return param_targets("binaural_beat", params["beat"], ctx, tolerance=0.05, window_s=4.0,
                         extra=extra)


register(LayerKind("binaural", "binaural beat: a tone per ear, differing by the beat frequency",
                   BINAURAL_PARAMS, build_binaural, targets_binaural))


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
register(LayerKind("monaural", "monaural beat: two tones in both ears, beating at the beat "
                   "frequency", MONAURAL_PARAMS, build_monaural, targets_monaural))


# ----------------------------------------------------------------------------- isochronic
def gate_shape(frac, rate_hz, duty, ramp_s):
    """Raised-cosine gate at cycle fraction ``frac``: above half level for ``duty`` of a cycle.

    The edges last ``ramp_s`` seconds and are centred on the cycle start (rising) and on
    ``duty / rate`` (falling), so the gate crosses half level exactly there; at high rates the
    ramps shorten to the on or off time. Returns values in [0, 1].
    """
    period = 1.0 / rate_hz
    on = duty * period
    ramp = np.minimum(ramp_s, np.minimum(on, period - on))
    tau = np.mod(frac * period + 0.5 * ramp, period)  # shifted: rise starts at tau = 0
    rise = raised_cosine(tau / ramp)
    fall = raised_cosine((on + ramp - tau) / ramp)
    return np.where(tau < on + ramp, np.minimum(rise, fall), 0.0)


ISOCHRONIC_PARAMS = {
    "carrier": ParamInfo("hz", 200.0, "tone that is gated", range=(20.0, 8000.0),
                         warn_range=(100.0, 1000.0)),
    "rate": ParamInfo("hz", 10.0, "gate rate (pulses per second)", range=(0.5, 60.0),
                      warn_range=(0.5, 40.0)),
    "duty": ParamInfo("fraction", 0.5, "fraction of each cycle the gate is open",
                      range=(0.05, 0.95)),
    "depth": ParamInfo("fraction", 1.0, "how far the gate closes (1 = silence between pulses)",
                       range=(0.0, 1.0)),
    "ramp_s": ParamInfo("s", 0.005, "raised-cosine edge length", range=(0.002, 0.010),
                        automatable=False),
}


def build_isochronic(params, ctx) -> Node:
    """Isochronic tone: a sine gated at ``rate`` with raised-cosine edges (never a hard gate).

    The gate is a pure function of the rate's phase (exact integral when the rate is a constant
    or a curve). It is above half level for ``duty`` of each cycle; edges last ``ramp_s``
    (shortened to the on or off time at high rates); ``depth`` < 1 leaves a floor of
    ``1 - depth``.
    """
    ramp = float(params["ramp_s"])
    if not 0.002 <= ramp <= 0.010:
        fail(ctx, "ramp_s", f"must be from 2 to 10 ms, got {ramp * 1000:g} ms")
    _check_positive(params["rate"], ctx, "rate")
    depth = params["depth"]
    d = const(depth)

    def func(frac, rate, duty, *ex):
        g = gate_shape(frac, rate, duty, ramp)
        dd = ex[0] if ex else d
        return 1.0 - dd * (1.0 - g)

    extras = [params["duty"]] + ([] if d is not None else [depth])
    gate = PhaseShaper(params["rate"], func, extras, label="IsochronicGate")
    return _stereo(Sine(params["carrier"], amplitude=gate))


def targets_isochronic(params, ctx):
    out = param_targets("am_rate", params["rate"], ctx, tolerance=0.05, window_s=4.0)
    d = const(params["depth"])
    if d is not None:
        out += param_targets("gated_depth", params["depth"], ctx, tolerance=0.05, window_s=4.0)
    return out


register(LayerKind("isochronic", "isochronic tone: a carrier gated on and off at a rate with "
                   "soft edges", ISOCHRONIC_PARAMS, build_isochronic, targets_isochronic))


# ----------------------------------------------------------------------------- pulse
PULSE_STYLES = ("thump", "click")

PULSE_PARAMS = {
    "rate": ParamInfo("hz", 4.0, "pulses per second", range=(0.5, 12.0)),
    "style": ParamInfo("choice", "thump", "thump: a short decaying low sine burst; click: a short "
                       "band-limited click", choices=PULSE_STYLES, automatable=False),
    "pitch": ParamInfo("hz", 0.0, "frequency of the burst; 0 = the style's default (thump 60 Hz, "
                       "click 2 kHz)", range=(0.0, 8000.0), automatable=False),
    "length_s": ParamInfo("s", 0.06, "length of one thump (raised-cosine attack, exponential "
                          "decay)", range=(0.02, 0.2), automatable=False),
}


def pulse_shape(style: str, pitch_hz: float, length_s: float):
    """``sound(tau_s)`` of one pulse, zero outside [0, length_s), peak about 1, click-free."""
    if style == "thump":
        attack = min(0.008, 0.25 * length_s)
        tc = 0.25 * length_s

        def sound(tau):
            env = raised_cosine(tau / attack) * np.exp(-np.maximum(tau - attack, 0.0) / tc)
            env = env * raised_cosine((length_s - tau) / (0.3 * length_s))
            return np.where((tau >= 0) & (tau < length_s),
                            env * np.sin(TWO_PI * pitch_hz * tau), 0.0)
        return sound, length_s
    # click: a Hann-windowed 4-cycle burst (band-limited around the pitch)
    dur = 4.0 / pitch_hz

    def click(tau):
        w = 0.5 - 0.5 * np.cos(TWO_PI * np.clip(tau / dur, 0.0, 1.0))
        return np.where((tau >= 0) & (tau < dur), w * np.sin(TWO_PI * pitch_hz * tau), 0.0)
    return click, dur


def build_pulse(params, ctx) -> Node:
    """A train of soft low thumps (or short clicks) at ``rate`` per second, both ears.

    Each pulse starts where the rate's phase wraps; a pulse is a function of the time since
    its start, so the train is click-free and a pure function of the phase.
    """
    style = params["style"]
    if style not in PULSE_STYLES:
        fail(ctx, "style", f'"{style}" is not a pulse style: allowed are thump, click')
    pitch = float(params["pitch"]) or (60.0 if style == "thump" else 2000.0)
    if pitch >= 0.45 * ctx.sr:
        fail(ctx, "pitch", f"{pitch:g} Hz is too high for a {ctx.sr} Hz render")
    length = float(params["length_s"])
    _, rhi = bounds_of(params["rate"], ctx.sr, ctx.duration_s)
    _check_positive(params["rate"], ctx, "rate")
    if style == "thump" and length > 0.8 / rhi:
        ctx.warn(f"pulse length_s {length:g} s is longer than 80 % of the pulse period at "
                 f"{rhi:g} Hz; shortened to {0.8 / rhi:.3f} s")
        length = 0.8 / rhi
    sound, _ = pulse_shape(style, pitch, length)

    def func(frac, rate):
        return sound(frac / rate)

    return _stereo(PhaseShaper(params["rate"], func, label="PulseTrain"))


def targets_pulse(params, ctx):
    return param_targets("am_rate", params["rate"], ctx, tolerance=0.05, window_s=4.0)


register(LayerKind("pulse", "low-frequency pulse: soft thumps or clicks at a rate",
                   PULSE_PARAMS, build_pulse, targets_pulse))


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
                         range=(0.0, 16000.0), automatable=False),
    "pip_s": ParamInfo("s", 0.001, "genus pip length (raised-cosine window over the pip)",
                       range=(0.0005, 0.005), automatable=False),
    "source": ParamInfo("choice", "tone", "am: what is modulated", choices=GAMMA_SOURCES,
                        automatable=False),
    "depth": ParamInfo("fraction", 1.0, "am: modulation depth (2|E(f)|/E0)", range=(0.0, 1.0)),
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

        def func(frac, rate):
            tau = frac / rate
            w = 0.5 - 0.5 * np.cos(TWO_PI * np.clip(tau / pip, 0.0, 1.0))
            return np.where(tau < pip, w * np.sin(TWO_PI * carrier * tau), 0.0)

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
    if params["mode"] == "am" and params["source"] == "tone":
        out += param_targets("am_depth", params["depth"], ctx, tolerance=0.05, window_s=4.0)
    return out


register(LayerKind("gamma", "40 Hz stimulation as real amplitude modulation (GENUS pips or AM)",
                   GAMMA_PARAMS, build_gamma, targets_gamma))
