"""Turn a resolved SBaGen sequence into a resonator recipe (TOML text a person can edit).

>>> from resonator.sbg.convert import convert_file, load_sbg_recipe
>>> conv = convert_file("ts-brain-alpha.sbg")          # doctest: +SKIP
>>> print(conv.toml)                                    # doctest: +SKIP
>>> recipe = load_sbg_recipe("ts-brain-alpha.sbg")     # doctest: +SKIP (a validated Recipe)

Mapping rules (see also the comments written into every converted recipe):

* Phases: one per period (time line), named after its tone-set (``alpha``, ``alpha_2`` when the
  name repeats), lasting from the line's time to the next line's.
* Layers: one per voice slot and kind of voice. Consecutive spans of one slot with the same kind
  (binaural, noise of one colour, spin, isochronic, waveNN, mix) share a layer: between them its
  level is 0, so a frequency jump there is silent. Every layer has explicit curves (linear between
  breakpoints, evaluated per sample) for its frequencies and its ``level`` (SBaGen amplitude / 100).
* Binaural ``C+B/A``: kind ``binaural`` (left C + B/2, right C - B/2). Negative beats (``C-B``),
  carriers below 20 Hz (``-p slide``) or non-sine waveforms use kind ``wave`` (signed beat).
  Plain tones ``C/A``: kind ``tone``. Isochronic ``C@P/A``: kind ``isochronic`` (gate ``soft``:
  rounded pulses open 60 % of each cycle, no splatter). ``pink/white/brown``: kind ``noise``, mono as in SBaGen unless ``stereo_noise``,
  gain -4.3 dB (SBaGen's noise at 100 has an RMS of 0.152 of full scale, resonator's 0.25).
  ``spin:W+R/A``: kind ``spin``, same gain. ``bell+F/A``: kind ``chime`` (struck sines, one layer
  per slot). ``mix/A`` and ``-m``: kind ``music`` (left out, with a message, when the file is
  missing). ``waveNN``: kind ``wave`` with ``shape = "custom"`` and the samples.
* Loudness: resonator normalises every render to the recipe's loudness (-20 LUFS, true peak
  -1 dBTP) instead of clipping when amplitudes sum past 100; SBaGen+'s ``-V`` shifts that target.
* Targets: per period, each pitched voice's beat (``binaural_beat`` with its carrier) or pulse
  rate (``am_rate``) over the period's steady part; along each slide (``-p drop``/``-p slide``
  and ``->`` transitions), windows of 4 s about every 2 minutes (5 to 15 of them) expecting the
  beat, and the carrier when it slides, at their centres.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._lazy import unique
from ..errors import RecipeError
from ..recipe.values import RESERVED_NAMES
from . import model as m
from .parser import read_sbg
from .resolve import _voice_key as _chain_key  # one kind identity for resolve and convert
from .resolve import resolve

#: SBaGen's pink noise at amplitude 100 has an RMS of 0.152 x full scale; resonator's noise 0.25
NOISE_GAIN_DB = -4.3
DEFAULT_RATE = 44100
MIN_TARGET_S = 2.0          # shortest steady window that gets a target
SLIDE_WINDOW_S = 4.0        # window length along slides
SLIDE_EVERY_S = 120.0       # a long slide is sampled about this often (at least 5 times)
SLIDE_MAX_SAMPLES = 15      # ... and at most this many times
MEASURE_BAND = (60.0, 1400.0)  # ears must lie here for a frequency target


@dataclass
class SbgConversion:
    """The result of converting one sequence.

    Attributes
    ----------
    path : str
        The ``.sbg`` file.
    toml : str
        The recipe text (comments say what came from where).
    data : dict
        ``tomllib.loads(toml)``.
    timeline : SbgTimeline
        The resolved sequence.
    unsupported : list of str
        One line per thing that could not be mapped (it is left out; the rest renders).
    notes : list of str
        The resolver's interpretations (start/end choices) and conversion notes.
    max_amp_sum : float
        Largest sum of the voices' SBaGen amplitudes at any time (SBaGen clips past 100).
    """

    path: str
    toml: str
    data: dict
    timeline: m.SbgTimeline
    unsupported: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    max_amp_sum: float = 0.0

    @property
    def layers(self) -> int:
        return len([x for x in self.data.get("layer", []) if x.get("enabled", True)])

    @property
    def targets(self) -> int:
        return len(self.data.get("target", []))

    def messages(self) -> list[str]:
        """What a user should read: unsupported items first, then the loudness note."""
        out = [f"unsupported: {u}" for u in self.unsupported]
        if self.max_amp_sum > 100:
            out.append(loudness_note(self.max_amp_sum))
        return out


def loudness_note(total: float) -> str:
    return (f"amplitudes sum to {total:.0f} (past 100): SBaGen would clip; resonator normalises "
            f"the loudness instead (no clipping)")


# ------------------------------------------------------------------------------ formatting
def fmt_time(t: float) -> str:
    """Seconds as ``m:ss`` or ``h:mm:ss`` with up to three decimals (a recipe duration)."""
    t = round(float(t), 3)
    whole = int(math.floor(t))
    frac = round(t - whole, 3)
    h, rem = divmod(whole, 3600)
    mm, ss = divmod(rem, 60)
    sec = f"{ss:02d}"
    if frac > 0:
        sec += f"{frac:.3f}"[1:].rstrip("0")
    return f"{h}:{mm:02d}:{sec}" if h else f"{mm}:{sec}"


def _num(x: float) -> str:
    x = float(x)
    if x == int(x) and abs(x) < 1e12:
        return f"{int(x)}.0" if abs(x) < 1e6 else repr(x)
    return f"{x:.10g}"


def _val(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return _num(v)
    if isinstance(v, str):
        import json
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_val(x) for x in v) + "]"
    raise TypeError(v)


def _comment(text: str) -> str:
    return "\n".join("# " + line if line else "#" for line in str(text).splitlines() or [""])


# ------------------------------------------------------------------------------ voices
def _clean(points: list[tuple]) -> list[tuple]:
    """Drop duplicates and the middle of holds; mark same-time jumps as steps."""
    out: list[tuple] = []
    for t, v in points:
        t, v = round(float(t), 4), round(float(v), 6)
        if out and out[-1][0] == t and out[-1][1] == v:
            continue
        out.append((t, v))
    keep: list[tuple] = []
    for i, p in enumerate(out):
        if 0 < i < len(out) - 1 and keep and keep[-1][1] == p[1] == out[i + 1][1]:
            continue
        keep.append(p)
    return keep


def _curve_text(points: list[tuple], unit_comment: str = "") -> str | float:
    """A constant (all values equal) or the TOML text of an explicit curve."""
    pts = _clean(points)
    if len({v for _, v in pts}) == 1:
        return pts[0][1]
    rows = []
    prev_t = None
    for t, v in pts:
        cell = f'["{fmt_time(t)}", {_num(v)}' + (', "step"]' if t == prev_t else "]")
        rows.append(cell)
        prev_t = t
    lines = []
    for i in range(0, len(rows), 4):
        lines.append("    " + ", ".join(rows[i:i + 4]) + ",")
    tail = f"  # {unit_comment}" if unit_comment else ""
    return "{ points = [" + tail + "\n" + "\n".join(lines) + "\n  ] }"


@dataclass
class _Layer:
    name: str
    kind: str
    slot: int
    spans: list
    keys: dict = field(default_factory=dict)     # key -> TOML value text
    comments: list = field(default_factory=list)
    enabled: bool = True

    @property
    def start_s(self) -> float:
        return self.spans[0].start_s if self.spans else 0.0

    @property
    def end_s(self) -> float:
        return self.spans[-1].end_s if self.spans else 0.0


def _points(chain: list[m.Span]) -> list[m.Point]:
    pts: list[m.Point] = []
    for sp in chain:
        pts.extend(sp.points)
    return pts


def _origin(chain: list[m.Span], tl: m.SbgTimeline) -> str:
    specs = []
    for sp in chain:
        s = f"{sp.voice.spec or sp.voice.kind} (line {sp.voice.line})" if sp.voice.line else \
            (sp.voice.spec or sp.voice.kind)
        if s not in specs:
            specs.append(s)
    more = f" and {len(specs) - 4} more" if len(specs) > 4 else ""
    return ", ".join(specs[:4]) + more


# ------------------------------------------------------------------------------ conversion
def convert_file(path, *, stereo_noise: bool = False, now_ms: int = 0) -> SbgConversion:
    """Read, resolve and convert an ``.sbg`` file (see :func:`convert_sequence`)."""
    return convert_sequence(read_sbg(path), stereo_noise=stereo_noise, now_ms=now_ms)


def convert_sequence(seq: m.SbgSequence, *, stereo_noise: bool = False,
                     now_ms: int = 0) -> SbgConversion:
    """Convert a parsed sequence to recipe TOML text and data.

    Parameters
    ----------
    seq : SbgSequence
        From :func:`resonator.sbg.read_sbg` / :func:`~resonator.sbg.parse_sbg`.
    stereo_noise : bool
        Independent noise per ear (decorrelated) instead of SBaGen's identical noise.
    now_ms : int
        Clock time used for ``NOW`` (ms after midnight).

    Returns
    -------
    SbgConversion

    Raises
    ------
    RecipeError
        When the sequence cannot be resolved, or nothing in it can be rendered (the message
        names what is unsupported).
    """
    tl = resolve(seq, now_ms=now_ms)
    where = seq.path
    unsupported: list[str] = list(tl.warnings)
    notes: list[str] = list(tl.notes)
    base_dir = Path(seq.path).parent
    sr = seq.options.sample_rate or DEFAULT_RATE

    # ---- phases from periods
    phases: list[tuple[str, float, float, m.Period]] = []
    used: dict[str, int] = {}  # phase names taken
    for p in tl.periods:
        s, e = round(p.start_s, 3), round(p.end_s, 3)
        if phases:
            s = phases[-1][2]
        if e <= s:
            continue
        base = p.toneset if p.toneset not in RESERVED_NAMES else f"{p.toneset}_ts"
        name, k = base, 1
        while name in used:
            k += 1
            name = f"{base}_{k}"
        used[name] = 1
        phases.append((name, s, e, p))
    dur = round(tl.duration_s, 3)
    if not phases:
        raise RecipeError("no period of the sequence falls inside the render window", where)
    if phases[0][1] > 0:
        phases.insert(0, ("start" if "start" not in used else "start_", 0.0, phases[0][1],
                          None))
    if phases[-1][2] < dur:
        n, s, _, p = phases[-1]
        phases[-1] = (n, s, dur, p)
    elif phases[-1][2] > dur:
        dur = phases[-1][2]

    # ---- layers: chains of spans per slot
    layers: list[_Layer] = []
    for slot in range(tl.slots):
        chain: list[m.Span] = []
        key = None
        for sp in tl.slot_spans(slot):
            k = _chain_key(sp.voice)
            if k is None:
                continue
            if chain and k != key:
                layers.append(_make_layer(chain, slot, tl, base_dir, stereo_noise, sr,
                                          unsupported, len(layers)))
                chain = []
            chain.append(sp)
            key = k
        if chain:
            layers.append(_make_layer(chain, slot, tl, base_dir, stereo_noise, sr, unsupported,
                                      len(layers)))
    if tl.mix_always_amp is not None and tl.mix_file:
        lay = _Layer(f"mix", "music", -1, [])
        lay.comments.append(f"-m {tl.mix_file}: SBaGen mixes the file in at 100 % throughout")
        _music(lay, tl.mix_file, base_dir, unsupported, where)
        layers.append(lay)
    bell_slots = sorted({b.slot for b in tl.bells})
    for slot in bell_slots:
        strikes = [b for b in tl.bells if b.slot == slot]
        lay = _Layer(f"s{slot + 1}-bell", "chime", slot, [])
        lay.comments.append(f"slot {slot + 1}: bell strikes (" + ", ".join(
            sorted({f"bell+{b.freq_hz:g}/{b.amp:g} (line {b.line})" for b in strikes})[:4]) +
            "): SBaGen's decay, 15.1 dB/s, with a 2 ms attack instead of a click")
        lay.keys["times"] = _val([round(b.t_s, 3) for b in strikes])
        pitches = sorted({b.freq_hz for b in strikes})
        amps = sorted({b.amp for b in strikes})
        lay.keys["pitches"] = _val([float(b.freq_hz) for b in strikes] if len(pitches) > 1
                                   else [float(pitches[0])])
        lay.keys["amps"] = _val([round(b.amp / 100, 6) for b in strikes] if len(amps) > 1
                                else [round(amps[0] / 100, 6)])
        layers.append(lay)
    # unique names
    seen: dict[str, int] = {}
    for lay in layers:
        seen[lay.name] = seen.get(lay.name, 0) + 1
        if seen[lay.name] > 1:
            lay.name = f"{lay.name}-{seen[lay.name]}"
    if not any(lay.enabled for lay in layers):
        what = "; ".join(unsupported) or "the sequence has no sounding voice"
        raise RecipeError(f"nothing in this sequence can be rendered: {what}", where)

    # ---- loudness: largest sum of amplitudes
    max_sum = _max_amp_sum(tl)
    if max_sum > 100:
        notes.append(loudness_note(max_sum))

    # ---- targets
    targets = _targets(tl, phases, layers)

    # ---- end: fade out when the sequence does not end in silence
    end_level = sum(sp.points[-1].amp for sp in tl.spans if sp.end_s >= tl.duration_s - 1e-6
                    and _chain_key(sp.voice) is not None)
    fade_out = 0.0 if end_level <= 0 else min(5.0, dur / 4)

    text = _write(seq, tl, phases, layers, targets, unsupported, notes, max_sum, sr,
                  stereo_noise, fade_out, dur)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # pragma: no cover - a bug in the writer
        raise RecipeError(f"internal error: the converted recipe is not valid TOML ({exc})",
                          where) from None
    return SbgConversion(seq.path, text, data, tl, unsupported, notes, max_sum)


def _music(lay: _Layer, file: str, base_dir: Path, unsupported: list[str], where: str) -> None:
    lay.keys["file"] = _val(file)
    if not (base_dir / file).exists():
        lay.enabled = False
        unsupported.append(f"{where}: the mix file \"{file}\" (-m) is not there "
                           f"(looked in {base_dir}); the mix layer is disabled (put the file "
                           f"beside the sequence and set enabled = true)")


def _make_layer(chain: list[m.Span], slot: int, tl: m.SbgTimeline, base_dir: Path,
                stereo_noise: bool, sr: int, unsupported: list[str], index: int) -> _Layer:
    v = chain[0].voice
    pts = _points(chain)
    where = tl.path
    level = [(p.t_s, p.amp / 100.0) for p in pts]
    origin = _origin(chain, tl)
    lay = _Layer("", "", slot, chain)
    lay.comments.append(f"slot {slot + 1}: {origin}")
    a = [(p.t_s, p.a) for p in pts]
    b = [(p.t_s, p.b) for p in pts]
    if isinstance(v, (m.BinauralVoice, m.ToneVoice)):
        wf = v.waveform
        carriers = [x for _, x in a]
        beats = [x for _, x in b]
        all_tone = all(isinstance(sp.voice, m.ToneVoice) for sp in chain) and \
            all(x == 0 for x in beats)
        if all_tone:
            lay.name, lay.kind = f"s{slot + 1}-tone", "tone"
            lay.keys["frequency"] = _curve_text(a, "Hz")
            if wf != "sine":
                lay.keys["shape"] = _val(wf)
        else:
            low_ear = min(c - abs(x) / 2 for c, x in zip(carriers, beats))
            plain = (wf == "sine" and min(beats) >= 0 and max(beats) <= 100 and
                     20 <= min(carriers) and max(carriers) <= 4000 and low_ear > 0)
            lay.name = f"s{slot + 1}-binaural"
            lay.kind = "binaural" if plain else "wave"
            lay.keys["carrier"] = _curve_text(a, "Hz")
            lay.keys["beat"] = _curve_text(b, "Hz: left = carrier + beat/2")
            if not plain:
                why = []
                if wf != "sine":
                    why.append(f"{wf} waveform")
                if min(beats) < 0:
                    why.append("negative beat: the right ear is higher")
                if min(carriers) < 20 or low_ear <= 0:
                    why.append(f"carrier goes down to {min(carriers):g} Hz (as SBaGen does)")
                lay.keys["shape"] = _val(wf)
                lay.comments.append("kind wave (" + "; ".join(why) + ")")
        if max(abs(x) for x in beats) > 100 or max(carriers) > 8000:
            lay.enabled = False
            unsupported.append(f"{where}: slot {slot + 1}: {origin}: frequencies beyond "
                               f"resonator's ranges (beat up to 100 Hz, tones up to 8 kHz); "
                               f"left out")
    elif isinstance(v, m.WaveVoice):
        lay.name, lay.kind = f"s{slot + 1}-wave{v.wave:02d}", "wave"
        wd = tl.waves.get(v.wave)
        lay.keys["carrier"] = _curve_text(a, "Hz")
        lay.keys["beat"] = _curve_text(b, "Hz: left = carrier + beat/2")
        lay.keys["shape"] = _val("custom")
        if wd is None:
            lay.enabled = False
            lay.keys["samples"] = _val([0.0, 1.0])
            unsupported.append(f"{where}:{v.line}: wave{v.wave:02d} is used but never defined "
                               f"(a waveNN: line); that voice is left out")
        else:
            lay.keys["samples"] = _val([float(x) for x in wd.samples])
            lay.comments.append(f"user waveform wave{v.wave:02d} (line {wd.line}), band-limited")
    elif isinstance(v, m.IsochronicVoice):
        lay.name, lay.kind = f"s{slot + 1}-isochronic", "isochronic"
        lay.keys["carrier"] = _curve_text(a, "Hz")
        lay.keys["rate"] = _curve_text(b, "pulses per second")
        lay.comments.append("gate \"soft\": rounded pulses, open 60 % of each cycle (gate = \"sharp\" "
                            "for crisp 5 ms edges)")
        if v.waveform != "sine":
            unsupported.append(f"{where}:{v.line}: isochronic {v.waveform} carrier "
                               f"(\"{v.spec}\") is rendered as a sine")
        rates = [x for _, x in b]
        if min(rates) < 0.5 or max(rates) > 60:
            lay.enabled = False
            unsupported.append(f"{where}:{v.line}: isochronic pulse {min(rates):g}-"
                               f"{max(rates):g} Hz is outside resonator's 0.5-60 Hz; left out")
    elif isinstance(v, m.NoiseVoice):
        lay.name, lay.kind = f"s{slot + 1}-{v.color}", "noise"
        lay.keys["color"] = _val(v.color)
        lay.keys["stereo"] = _val(bool(stereo_noise))
        lay.keys["gain"] = _val(f"{NOISE_GAIN_DB:g} dB")
        lay.comments.append("SBaGen's noise is the same in both ears" +
                            (" (here: independent per ear, --stereo-noise)" if stereo_noise
                             else " (stereo = true decorrelates it)") +
                            f"; gain {NOISE_GAIN_DB:g} dB matches SBaGen's noise level")
    elif isinstance(v, m.SpinVoice):
        lay.name, lay.kind = f"s{slot + 1}-spin", "spin"
        lay.keys["color"] = _val(v.color)
        lay.keys["width"] = _curve_text(a, "microseconds")
        lay.keys["rate"] = _curve_text(b, "Hz")
        lay.keys["gain"] = _val(f"{NOISE_GAIN_DB:g} dB")
        limit = 127 / sr * 1e6
        if max(x for _, x in a) > limit:
            unsupported.append(f"{where}:{v.line}: spin width {max(x for _, x in a):g} us is "
                               f"past SBaGen's limit ({limit:.0f} us at {sr} Hz); clipped to it")
    elif isinstance(v, m.MixVoice):
        lay.name, lay.kind = "mix", "music"
        lay.comments.append(f"-m {tl.mix_file}")
        if tl.mix_file:
            _music(lay, tl.mix_file, base_dir, unsupported, where)
        else:
            lay.enabled = False
            lay.keys["file"] = _val("MISSING")
    else:  # pragma: no cover - _chain_key filters the rest
        raise AssertionError(v)
    lay.keys["level"] = _curve_text(level, "SBaGen amplitude / 100")
    return lay


def _max_amp_sum(tl: m.SbgTimeline) -> float:
    spans = [sp for sp in tl.spans if _chain_key(sp.voice) is not None]
    if not spans:
        return 0.0
    times = unique(np.concatenate([[p.t_s for p in sp.points] for sp in spans]))
    total = np.zeros(times.shape)
    for sp in spans:
        t = np.array([p.t_s for p in sp.points])
        v = np.array([p.amp for p in sp.points])
        inside = (times >= t[0]) & (times <= t[-1])
        total += np.where(inside, np.interp(times, t, v), 0.0)
    extra = tl.mix_always_amp or 0.0
    return float(total.max() + extra)


def _layer_at(layers: list[_Layer], slot: int, t: float) -> _Layer | None:
    for lay in layers:
        if lay.slot == slot and lay.spans and lay.enabled and \
                lay.start_s - 1e-9 <= t <= lay.end_s + 1e-9:
            return lay
    return None


def _ears_ok(c: float, b: float) -> bool:
    lo, hi = MEASURE_BAND
    return lo <= c - abs(b) / 2 and c + abs(b) / 2 <= hi


def _targets(tl: m.SbgTimeline, phases, layers: list[_Layer]) -> list[dict]:
    out: list[dict] = []
    # ---- tone-set frequencies in each period's steady part
    for name, _, _, p in phases:
        if p is None:
            continue
        s, e = p.steady_start_s, p.steady_end_s
        margin = min(1.0, 0.1 * (e - s))
        s, e = s + margin, e - margin
        if e - s < MIN_TARGET_S:
            continue
        for slot, v in enumerate(p.voices):
            lay = _layer_at(layers, slot, 0.5 * (s + e))
            if lay is None or v.amp <= 0:
                continue
            base = {"window_s": (s, e), "layer": lay.name, "period": name, "line": v.line}
            if isinstance(v, (m.BinauralVoice, m.ToneVoice, m.WaveVoice)) and \
                    lay.kind in ("binaural", "wave", "tone"):
                c, b = (v.freq_hz, 0.0) if isinstance(v, m.ToneVoice) else \
                    (v.carrier_hz, v.beat_hz)
                if not _ears_ok(c, b):
                    continue
                out.append(dict(base, name=f"{name}/s{slot + 1}-beat", kind="binaural_beat",
                                expected=b, tolerance=0.05, carrier=c,
                                why=f"{v.spec} (line {v.line}): left {c + b / 2:g} Hz, right "
                                    f"{c - b / 2:g} Hz"))
            elif isinstance(v, m.IsochronicVoice) and lay.kind == "isochronic":
                out.append(dict(base, name=f"{name}/s{slot + 1}-pulse", kind="am_rate",
                                expected=v.pulse_hz, tolerance=0.05, carrier=None,
                                why=f"{v.spec} (line {v.line})"))
    # ---- held voices in periods without a steady part (all-transition ``->`` chains)
    covered = [(t["layer"], t["window_s"]) for t in out]
    for lay in layers:
        k = 0
        for sp, p, q, kind in _tone_intervals(lay):
            s, e = p.t_s + 1.0, q.t_s - 1.0
            if kind != "hold" or e - s < MIN_TARGET_S or p.amp <= 0.5:
                continue
            if any(n == lay.name and a < e and s < b for n, (a, b) in covered):
                continue
            k += 1
            if lay.kind == "isochronic":
                out.append({"window_s": (s, e), "layer": lay.name, "kind": "am_rate",
                            "name": f"{lay.name}/hold-{k}", "expected": p.b,
                            "tolerance": 0.05, "carrier": None,
                            "why": f"pulse held at {p.b:g} Hz"})
            elif _ears_ok(p.a, p.b):
                out.append({"window_s": (s, e), "layer": lay.name, "kind": "binaural_beat",
                            "name": f"{lay.name}/hold-{k}", "expected": p.b,
                            "tolerance": 0.05, "carrier": p.a,
                            "why": f"held at {p.a:g}{p.b:+g}"})
    # ---- slides: windows along each gliding interval
    for lay in layers:
        k = 0
        for sp, p, q, kind in _tone_intervals(lay):
            if kind != "slide" or q.t_s - p.t_s < 2 * SLIDE_WINDOW_S:
                continue
            if (p.b == q.b) and lay.kind != "tone" and lay.kind != "isochronic" and \
                    abs(p.a - q.a) < 1e-9:
                continue
            d = q.t_s - p.t_s
            n = int(min(max(5, d // SLIDE_EVERY_S), SLIDE_MAX_SAMPLES,
                        max(1, d // (2 * SLIDE_WINDOW_S))))
            for j in range(n):
                c_t = p.t_s + (j + 0.5) * d / n
                lo, hi = c_t - SLIDE_WINDOW_S / 2, c_t + SLIDE_WINDOW_S / 2
                pc = sp.at(c_t)
                plo, phi = sp.at(lo), sp.at(hi)
                if min(plo.amp, phi.amp) <= 0.5:
                    continue
                k += 1
                if lay.kind == "isochronic":
                    tol = 0.05 + 0.5 * abs(phi.b - plo.b)
                    out.append({"window_s": (lo, hi), "layer": lay.name,
                                "name": f"{lay.name}/slide-{k}", "kind": "am_rate",
                                "expected": pc.b, "tolerance": tol, "carrier": None,
                                "why": f"pulse sliding {p.b:g} -> {q.b:g} Hz "
                                       f"({fmt_time(p.t_s)}-{fmt_time(q.t_s)})"})
                    continue
                if not (_ears_ok(plo.a, plo.b) and _ears_ok(phi.a, phi.b)):
                    continue
                tol = 0.05 + 0.5 * abs(phi.b - plo.b)
                why = (f"sliding {p.a:g}{p.b:+g} -> {q.a:g}{q.b:+g} ({fmt_time(p.t_s)}-"
                       f"{fmt_time(q.t_s)}); centre {pc.a:.4g}{pc.b:+.4g}")
                out.append({"window_s": (lo, hi), "layer": lay.name,
                            "name": f"{lay.name}/slide-{k}", "kind": "binaural_beat",
                            "expected": pc.b, "tolerance": tol, "carrier": pc.a, "why": why})
                if abs(p.a - q.a) > 1e-9:  # the carrier's own trajectory (-p slide)
                    out.append({"window_s": (lo, hi), "layer": lay.name,
                                "name": f"{lay.name}/slide-{k}-carrier",
                                "kind": "binaural_carrier", "expected": pc.a,
                                "tolerance": 0.1 + 0.5 * abs(phi.a - plo.a), "carrier": None,
                                "why": why})
    return out


def _tone_intervals(lay):
    """(span, point, next point, interval kind) of every interval of an enabled tone-like
    layer (binaural, wave, tone, isochronic); nothing for other layers."""
    if not lay.enabled or lay.kind not in ("binaural", "wave", "tone", "isochronic"):
        return
    for sp in lay.spans:
        for p, q, kind in zip(sp.points, sp.points[1:], sp.kinds):
            yield sp, p, q, kind


# ------------------------------------------------------------------------------ writer
def _write(seq, tl, phases, layers, targets, unsupported, notes, max_sum, sr, stereo_noise,
           fade_out, dur) -> str:
    src = Path(seq.path).name
    desc = [d.strip() for d in tl.description if d.strip()]
    # a short line that is not the end of a sentence begun on the line before (those start
    # in lower case: "repeated endlessly." was the title of prog-chakras-1)
    short = [d for d in desc if len(d) <= 48 and not d.endswith((":", ",", ";"))
             and not d[0].islower()]
    title = short[0] if short else Path(seq.path).stem
    L: list[str] = []
    L.append(f"# Converted from the SBaGen sequence {src} by `resonator import`.")
    L.append("# Edit freely: each [[layer]] is one voice slot of the sequence, with explicit curves")
    L.append("# (linear between points, evaluated per sample) for its frequencies and its level")
    L.append("# (SBaGen amplitude / 100). Phases are the sequence's periods, named after their")
    L.append("# tone-sets. Binaural C+B: left ear C + B/2, right ear C - B/2, as in SBaGen.")
    L.append("# Changes spread over the fade time (-F, default 60 s) around each time line, or")
    L.append("# over the whole period with ->, exactly as SBaGen schedules them.")
    if tl.description:
        L.append("#")
        L.append("# Description (## lines):")
        for d in tl.description:
            L.append(_comment("  " + d))
    if notes:
        L.append("#")
        L.append("# Notes:")
        for n in notes:
            L.append(_comment("  " + n))
    if unsupported:
        L.append("#")
        L.append("# Not mapped (left out or changed; the rest renders):")
        for u in unsupported:
            L.append(_comment("  " + u))
    L.append("#")
    L.append("# Evidence for entrainment effects is mixed. Do not use with epilepsy or a seizure")
    L.append("# history, or while driving.")
    L.append(f"title = {_val(title)}")
    L.append(f"description = {_val(' '.join(desc[1:]) if len(desc) > 1 else 'Imported from ' + src)}")
    L.append(f"sample_rate = {int(sr)}")
    L.append("seed = 0")
    loud = -20.0
    if tl.volume is not None and tl.volume > 0:
        loud = max(-70.0, -20.0 + 20 * math.log10(min(100.0, tl.volume) / 100.0))
        L.append(f"# -V {tl.volume:g}: SBaGen+'s volume lowers the loudness target")
    if max_sum > 100:
        L.append(f"# The amplitudes sum to {max_sum:.0f} (past 100) at the loudest: SBaGen would "
                 "clip there; resonator")
        L.append("# normalises the loudness of the whole render instead (no clipping).")
    else:
        L.append("# SBaGen plays amplitudes as they are; resonator normalises the loudness.")
    L.append(f"loudness = \"{loud:.1f} LUFS\"")
    L.append("true_peak = \"-1 dBTP\"")
    L.append("fade_in = \"0s\"   # the sequence brings its voices in itself")
    if fade_out > 0:
        L.append(f"fade_out = \"{fmt_time(fade_out)}\"   # the sequence ends with voices "
                 "still sounding")
    else:
        L.append("fade_out = \"0s\"")
    if dur > 12 * 3600:
        L.append(f"max_duration = \"{fmt_time(math.ceil(dur / 3600) * 3600)}\"")
    L.append("")
    # phases
    for name, s, e, p in phases:
        L.append("[[phase]]")
        L.append(f"name = {_val(name)}")
        L.append(f"duration = \"{fmt_time(round(e - s, 3))}\"   # {fmt_time(s)} - "
                 f"{fmt_time(e)}")
        if p is not None:
            clock = p.clock_ms // 1000
            ts = seq.tonesets.get(p.toneset)
            specs = " ".join(v.spec for v in p.voices if v.kind != "off") or "(silence)"
            desc_p = (f"line {p.line}: {clock // 3600:02d}:{clock // 60 % 60:02d}:"
                      f"{clock % 60:02d} {p.fade_in}{p.fade_out} {p.toneset}"
                      f"{' ->' if p.slide_to_next else ''}; {specs}")
            L.append(f"description = {_val(desc_p)}")
            if ts is not None:
                L.append(f"# tone-set {p.toneset} (line {ts.line}); steady "
                         f"{fmt_time(p.steady_start_s)} - {fmt_time(p.steady_end_s)}")
        L.append("")
    # layers
    for lay in layers:
        for c in lay.comments:
            L.append(_comment(c))
        L.append("[[layer]]")
        L.append(f"name = {_val(lay.name)}")
        L.append(f"kind = {_val(lay.kind)}")
        if not lay.enabled:
            L.append("enabled = false")
        for k, v in lay.keys.items():
            L.append(f"{k} = {v if isinstance(v, str) else _val(v)}")
        L.append("")
    # targets
    if targets:
        L.append("# Targets for `resonator check`: the beat of every pitched voice in each "
                 "period's steady part,")
        L.append("# and windows along slides expecting the beat (and a sliding carrier) at "
                 "their centres.")
    for tg in targets:
        s, e = tg["window_s"]
        L.append(f"[[target]]   # {tg['why']}")
        L.append(f"name = {_val(tg['name'])}")
        L.append(f"kind = {_val(tg['kind'])}")
        L.append(f"layer = {_val(tg['layer'])}")
        L.append(f"start = \"{fmt_time(s)}\"")
        L.append(f"end = \"{fmt_time(e)}\"")
        note = {"binaural_beat": "   # left minus right",
                "binaural_carrier": "   # the ears' mean"}.get(tg["kind"], "")
        L.append(f"expected = \"{round(tg['expected'], 6):.6g} Hz\"{note}")
        L.append(f"tolerance = \"{round(tg['tolerance'], 4):.4g} Hz\"")
        if tg.get("carrier") is not None:
            L.append(f"carrier = \"{tg['carrier']:.6g} Hz\"")
        L.append("")
    return "\n".join(L).rstrip() + "\n"


# ------------------------------------------------------------------------------ recipes
def recipe_from_conversion(conv: SbgConversion):
    """A validated :class:`~resonator.recipe.model.Recipe` from a conversion (its path is the
    ``.sbg`` file, so relative files such as the ``-m`` mix resolve beside it)."""
    from ..recipe.loader import raw_from_text
    from ..recipe.model import parse_recipe

    recipe = parse_recipe(raw_from_text(conv.toml, conv.path, lines=False))
    recipe.warnings[:0] = conv.messages()
    recipe.origin = conv
    return recipe


def load_sbg_recipe(path, *, stereo_noise: bool = False, now_ms: int = 0):
    """Convert an ``.sbg`` file and load the result as a recipe (see :func:`convert_sequence`).

    The recipe's ``warnings`` start with one line per unsupported item and, when the amplitudes
    sum past 100, the loudness note; ``recipe.origin`` holds the :class:`SbgConversion`.
    """
    return recipe_from_conversion(convert_file(path, stereo_noise=stereo_noise, now_ms=now_ms))
