"""Resolve a parsed ``.sbg`` sequence into a timeline of voices with exact breakpoints.

Semantics (SBaGen 1.4.5's ``readTimeLine``, ``correctPeriods`` and ``corrVal``, read from its
source, reproduced here with floating-point seconds instead of SBaGen's integer milliseconds):

Times
    Each time line's clock time is evaluated in file order (blocks expanded in place, a block
    line's relative time added to the time of the line using the block; ``+hh:mm`` is relative
    to the last absolute time; ``NOW`` is taken as ``now_ms``, default 00:00). Periods follow
    file order, each lasting until the next line's clock time, wrapping past midnight, so clock
    times become increasing elapsed times. A schedule whose times add up to more than 24 hours
    (times out of order) is an error, as in SBaGen.
Render window
    Time 0 is the first time line (SBaGen ``-S``), or ``-T``'s clock time when that falls inside
    the schedule. The end is the last time line with ``-E`` (which wins over ``-L``, as in
    SBaGen), else start + ``-L``. Without either, SBaGen would play forever; resonator ends at
    the last time line when its tone-set is silent, and otherwise holds the last tone-set for
    :data:`DEFAULT_LAST_PERIOD_S` (30 min), or until its clock time comes round to the first
    time line if that is sooner (so a 24-hour clock schedule renders one full day from its first
    time). ``-p`` programs imply ``-SE``.
Transitions (``correctPeriods``)
    Between two consecutive time lines there is a transition. With ``->`` on the earlier line
    the transition fills that whole period (the tone-set is reached only at the next line's
    time) and is always a slide. Otherwise it is centred on the later line's time and lasts the
    fade time (``-F``, default 60 s), each half clipped to the length of the neighbouring period
    (processed in file order, so earlier clips shorten later ones). Before the first line the
    sequence is silent, and the first tone-set comes in through such a transition (half of it
    before time 0, so the first voices rise from silence over ``fade/2`` after time 0; none
    when the first line has ``->``). For each slot, with ``fo`` the earlier line's fade-out mark
    and ``fi`` the later line's fade-in mark (``->`` forces both to ``=``, and a voice appearing
    or disappearing under ``->`` fades in or out at the other side's frequency):

    * through silence (the old voice falls linearly to 0 at the transition's midpoint, the new
      voice rises from 0 at the midpoint to its level at the end) when either mark is ``<`` or
      ``>`` (every slot, even unchanged ones), or the two voices are of different kinds
      (including off and on), or either mark is ``-`` and a binaural/tone/isochronic/wave voice
      changes carrier or beat;
    * otherwise the voice continues and every value (carrier, beat, amplitude; spin width and
      rate; noise and mix level) moves linearly from the old to the new values over the whole
      transition. So ``--`` keeps same-pitch tones playing while levels crossfade, ``==`` glides
      frequencies, and spin noise glides even under ``--`` (as in SBaGen).

    Each slot holds at most one voice at a time: a change of voice is two consecutive spans
    (old one fading to 0 at the midpoint, new one from 0), never an overlap.
Bells
    A bell rings once per period that has it: at the midpoint of the incoming transition (the
    line's time when unclipped), or at the line's time when the previous line has ``->``.
Not supported (warned): SBaGen+ ``mixspin``/``mixpulse`` (treated as off), ``-c``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from ..errors import RecipeError
from . import model as m

H24_MS = 86_400_000
DEFAULT_LAST_PERIOD_S = 1800.0
_FADE_CODE = {"<": 0, ">": 0, "-": 1, "=": 2}


def _t_per0(t0: int, t1: int) -> int:
    d = t1 - t0
    return d if d >= 0 else d + H24_MS


def _clock(ms: int) -> str:
    s = ms // 1000
    return "%02d:%02d:%02d" % (s // 3600 % 24, s // 60 % 60, s % 60)


@dataclass
class _Entry:
    tl: m.TimeLine
    clock_ms: int
    toneset: m.ToneSet
    elapsed_s: float = 0.0
    start: float = 0.0            # adjusted start of the steady part (P.tim)
    tstart: float = 0.0           # adjusted start of the outgoing transition (T.tim)
    voices: list = field(default_factory=list)


def _flatten(seq: m.SbgSequence, now_ms: int, notes: list[str]) -> list[_Entry]:
    out: list[_Entry] = []
    last_abs: int | None = None
    saw_now = saw_abs = False

    def emit(tl: m.TimeLine, te: m.TimeExpr) -> None:
        nonlocal last_abs, saw_now, saw_abs
        if te.now:
            tim = now_ms
            last_abs = tim
            saw_now = True
        elif te.absolute_ms is not None:
            tim = te.absolute_ms
            last_abs = tim
            saw_abs = True
        else:
            if last_abs is None:
                raise RecipeError(f'relative time "{te.text}" without a previous absolute time '
                                  f"(start the sequence with hh:mm[:ss] or NOW)",
                                  where=f"{seq.path}:{tl.line}")
            tim = last_abs
        for off in te.offsets_ms:
            tim = (tim + off) % H24_MS
        if tl.name in seq.blocks:
            for inner in seq.blocks[tl.name].lines:
                composed = m.TimeExpr(te.text + inner.time.text, te.now, te.absolute_ms,
                                      te.offsets_ms + inner.time.offsets_ms)
                emit(inner, composed)
        else:
            out.append(_Entry(tl, tim, seq.tonesets[tl.name]))

    for tl in seq.timelines:
        emit(tl, tl.time)
    if saw_now and saw_abs:
        notes.append(f"{seq.path}: NOW is mixed with clock times; NOW was taken as "
                     f"{_clock(now_ms)}")
    return out


def _voice_key(v: m.Voice):
    """Kind identity: voices with different keys cannot glide into each other."""
    if isinstance(v, (m.BinauralVoice, m.ToneVoice)):
        return ("binaural", v.waveform)
    if isinstance(v, m.IsochronicVoice):
        return ("isochronic", v.waveform)
    if isinstance(v, m.WaveVoice):
        return ("wave", v.wave)
    if isinstance(v, m.NoiseVoice):
        return ("noise", v.color)
    if isinstance(v, m.SpinVoice):
        return ("spin", v.color)
    if isinstance(v, m.MixVoice):
        return ("mix",)
    return None  # off, bell, mix effects: no continuous voice


def _params(v: m.Voice) -> tuple[float, float]:
    if isinstance(v, (m.BinauralVoice, m.WaveVoice)):
        return v.carrier_hz, v.beat_hz
    if isinstance(v, m.ToneVoice):
        return v.freq_hz, 0.0
    if isinstance(v, m.IsochronicVoice):
        return v.carrier_hz, v.pulse_hz
    if isinstance(v, m.SpinVoice):
        return v.width_us, v.rate_hz
    return 0.0, 0.0


def _pitched(key) -> bool:
    return key is not None and key[0] in ("binaural", "isochronic", "wave")


class _Slot:
    def __init__(self, index: int):
        self.index = index
        self.open: m.Span | None = None
        self.done: list[m.Span] = []

    def add(self, t: float, v: m.Voice, amp: float | None = None) -> None:
        a, b = _params(v)
        p = m.Point(t, a, b, v.amp if amp is None else amp)
        if self.open is None:
            self.open = m.Span(self.index, v, [p])
            return
        if not self.open.points or self.open.points[-1] != p:
            self.open.points.append(p)

    def close(self) -> None:
        if self.open is not None:
            self.done.append(self.open)
            self.open = None


def resolve(seq: m.SbgSequence, *, now_ms: int = 0,
            default_last_period_s: float = DEFAULT_LAST_PERIOD_S) -> m.SbgTimeline:
    """Resolve a parsed sequence into spans of voices with exact breakpoints.

    Parameters
    ----------
    seq : SbgSequence
        From :func:`parse_sbg` or :func:`read_sbg`.
    now_ms : int, optional
        Clock time (ms after midnight) used for ``NOW``. Default 0.
    default_last_period_s : float, optional
        How long the last tone-set is held when neither ``-E`` nor ``-L`` ends the sequence.

    Returns
    -------
    SbgTimeline
        Times in seconds from the render start; see the module docstring for the semantics.

    Raises
    ------
    RecipeError
        When the sequence has no time line, uses a relative time before any absolute one, or
        its times add up to more than 24 hours.
    """
    notes = list(seq.notes)
    warnings = list(seq.warnings)
    where = seq.path
    opts = seq.options
    entries = _flatten(seq, now_ms, notes)
    if not entries:
        raise RecipeError("no time lines: nothing is scheduled (add a line such as "
                          "\"00:00 name\")", where=where)
    n = len(entries)
    # ---- elapsed times
    e = 0
    for i, en in enumerate(entries):
        if i:
            e += _t_per0(entries[i - 1].clock_ms, en.clock_ms)
        en.elapsed_s = e / 1000.0
    span_ms = e
    wrap_ms = _t_per0(entries[-1].clock_ms, entries[0].clock_ms)
    if n > 1 and span_ms + wrap_ms > H24_MS:
        bad = [f"{_clock(a.clock_ms)} -> {_clock(b.clock_ms)} (line {b.tl.line})"
               for a, b in zip(entries, entries[1:])
               if _t_per0(a.clock_ms, b.clock_ms) >= H24_MS // 2]
        raise RecipeError("the times add up to more than 24 hours, so two times are probably "
                          "out of order; suspicious intervals: " + (", ".join(bad) or "none"),
                          where=where)

    slots = max(1, max(len(en.toneset.voices) for en in entries))
    for en in entries:
        vs = list(en.toneset.voices) + [m.OffVoice()] * (slots - len(en.toneset.voices))
        for k, v in enumerate(vs):
            if isinstance(v, m.MixEffectVoice):
                warnings.append(f"{where}:{v.line}: {v.effect} (\"{v.spec}\") is not supported; "
                                f"that voice is left out")
                vs[k] = m.OffVoice(line=v.line)
        en.voices = vs

    # ---- render window
    def silent(en: _Entry) -> bool:
        return all(_voice_key(v) is None for v in en.voices)

    start_s = 0.0
    if opts.start_clock_ms is not None:
        off = _t_per0(entries[0].clock_ms, opts.start_clock_ms)
        if off <= span_ms and off != 0:
            start_s = off / 1000.0
            notes.append(f"{where}: -T {_clock(opts.start_clock_ms)}: rendering starts "
                         f"{start_s:g} s after the first time line")
        elif off != 0:
            notes.append(f"{where}: -T {_clock(opts.start_clock_ms)} is outside the schedule "
                         f"({_clock(entries[0].clock_ms)} to {_clock(entries[-1].clock_ms)}); "
                         f"rendering starts at the first time line")
    elif not opts.start_at_first:
        notes.append(f"{where}: no -S: SBaGen would follow the wall clock; rendering starts at "
                     f"the first time line ({_clock(entries[0].clock_ms)})")
    last_e = entries[-1].elapsed_s

    # ---- periods and transition windows (SBaGen correctPeriods, step 2)
    fade = opts.fade_ms / 1000.0
    INF = math.inf
    last_len = wrap_ms / 1000.0 if wrap_ms > 0 else INF
    for i, en in enumerate(entries):
        en.start = en.elapsed_s
        if i + 1 < n:
            en.tstart = en.elapsed_s if en.tl.slide_to_next else entries[i + 1].elapsed_s
        else:
            en.tstart = en.elapsed_s + last_len
            if en.tl.slide_to_next:
                notes.append(f"{where}:{en.tl.line}: -> on the last time line has no next "
                             f"tone-set to slide to; ignored")

    def plen(i: int) -> float:
        return entries[i].tstart - entries[i].start

    for i in range(n - 1):
        if entries[i].tl.slide_to_next:
            continue
        adj = fade / 2
        adj0 = min(adj, plen(i))
        adj1 = min(adj, plen(i + 1))
        entries[i].tstart -= adj0
        entries[i + 1].start += adj1
    init_end = entries[0].start + min(fade / 2, plen(0))
    init_start = entries[0].start - fade / 2
    entries[0].start = init_end

    # ---- end of the render
    if opts.end_at_last:
        end_s = last_e
        if opts.length_ms is not None:
            notes.append(f"{where}: both -E and -L are given; -E wins, as in SBaGen")
        if not silent(entries[-1]):
            notes.append(f"{where}:{entries[-1].tl.line}: the sequence ends (-E) as the last "
                         f"tone-set \"{entries[-1].toneset.name}\" begins; it is not held")
    elif opts.length_ms is not None:
        end_s = start_s + opts.length_ms / 1000.0
    else:
        if silent(entries[-1]):
            mid_last = (entries[-2].tstart + entries[-1].start) / 2 if n > 1 else last_e
            end_s = max(last_e, mid_last)
            if n > 1 and not opts.end_at_last:
                notes.append(f"{where}: no -E or -L: the sequence ends at its last time line "
                             f"({_clock(entries[-1].clock_ms)}), whose tone-set is silent")
        else:
            hold = min(default_last_period_s, last_len)
            end_s = last_e + hold
            notes.append(f"{where}: no -E or -L: SBaGen would play forever; the last tone-set "
                         f"\"{entries[-1].toneset.name}\" (line {entries[-1].tl.line}) is held "
                         f"for {hold:g} s")
    if end_s <= start_s:
        raise RecipeError(f"nothing to render: the sequence ends ({end_s:g} s) before it starts "
                          f"({start_s:g} s)", where=where)

    # ---- voices through each transition (SBaGen correctPeriods, step 3)
    slot_state = [_Slot(k) for k in range(slots)]
    transitions: list[m.Transition] = []
    bells: list[m.BellStrike] = []
    off_voices = [m.OffVoice()] * slots

    def do_transition(prev_voices, prev_fo: str, nxt: _Entry, s: float, e_: float,
                      arrow: bool, line: int) -> float:
        mid = (s + e_) / 2
        if arrow:
            fo = fi = 2
        else:
            fo, fi = _FADE_CODE[prev_fo], _FADE_CODE[nxt.tl.fade_in]
        mode = "slide" if fo == 2 and fi == 2 else ("silence" if 0 in (fo, fi) else "crossfade")
        labels = []
        for a in range(slots):
            vp, vq = prev_voices[a], nxt.voices[a]
            kp, kq = _voice_key(vp), _voice_key(vq)
            st = slot_state[a]
            if arrow:
                if kp is None and kq is not None:
                    vp, kp = replace(vq, amp=0.0), kq
                elif kp is not None and kq is None:
                    vq, kq = replace(vp, amp=0.0), kp
            if kp is None and kq is None:
                labels.append("off")
                continue
            through = (fo == 0 or fi == 0 or kp != kq or
                       ((fo == 1 or fi == 1) and _pitched(kp) and _params(vp) != _params(vq)))
            if through:
                if kp is not None:
                    st.add(s, vp)
                    if mid > s:
                        st.add(mid, vp, 0.0)
                    st.close()
                if kq is not None:
                    if e_ > mid:
                        st.add(mid, vq, 0.0)
                    st.add(e_, vq)
                labels.append("through_silence" if kp is not None and kq is not None
                              else ("fade_in" if kq is not None else "fade_out"))
            else:
                if st.open is None:
                    st.open = m.Span(a, vp if vp.amp > 0 or vq.amp == 0 else vq, [])
                st.add(s, vp)
                st.add(e_, vq)
                if isinstance(prev_voices[a], m.OffVoice) or _voice_key(prev_voices[a]) is None:
                    labels.append("fade_in")
                elif _voice_key(nxt.voices[a]) is None:
                    labels.append("fade_out")
                    st.close()
                else:
                    labels.append("continue")
        transitions.append(m.Transition(s, mid, e_, mode, tuple(labels), line))
        return mid

    for i, en in enumerate(entries):
        if i == 0:
            mid = do_transition(off_voices, "-", en, init_start, init_end, False, en.tl.line)
            bell_t = max(mid, start_s)
        else:
            pe = entries[i - 1]
            arrow = pe.tl.slide_to_next
            mid = do_transition(pe.voices, pe.tl.fade_out, en, pe.tstart, en.start, arrow,
                                en.tl.line)
            bell_t = en.elapsed_s if arrow else mid
        for a, v in enumerate(en.voices):
            if isinstance(v, m.BellVoice):
                bells.append(m.BellStrike(bell_t, a, v.freq_hz, v.amp, v.line))
    for st in slot_state:
        if st.open is not None:
            last = st.open.points[-1]
            if last.t_s < end_s:
                st.open.points.append(replace(last, t_s=end_s))
            st.close()

    # ---- clip to the render window and shift to start at 0
    duration = end_s - start_s
    spans: list[m.Span] = []
    for st in slot_state:
        for sp in st.done:
            c = _clip(sp, start_s, end_s)
            if c is not None:
                spans.append(c)
    spans.sort(key=lambda s: (s.slot, s.start_s))
    bells = [replace(b, t_s=b.t_s - start_s) for b in bells if start_s <= b.t_s < end_s]
    periods: list[m.Period] = []
    for i, en in enumerate(entries):
        p_end = entries[i + 1].elapsed_s if i + 1 < n else end_s
        if p_end <= start_s or en.elapsed_s >= end_s or p_end == en.elapsed_s:
            continue
        ss = min(max(en.start, en.elapsed_s), en.tstart) if not en.tl.slide_to_next \
            else en.elapsed_s
        periods.append(m.Period(
            index=i, toneset=en.toneset.name, voices=tuple(en.voices),
            start_s=max(en.elapsed_s, start_s) - start_s,
            end_s=min(p_end, end_s) - start_s,
            steady_start_s=min(max(ss, start_s), end_s) - start_s,
            steady_end_s=min(max(min(en.tstart, end_s), start_s), end_s) - start_s,
            clock_ms=en.clock_ms, fade_in=en.tl.fade_in, fade_out=en.tl.fade_out,
            slide_to_next=en.tl.slide_to_next, line=en.tl.line))
    trans = [replace(t, start_s=t.start_s - start_s, mid_s=t.mid_s - start_s,
                     end_s=t.end_s - start_s)
             for t in transitions if t.end_s > start_s and t.start_s < end_s]

    mix_used = any(isinstance(v, m.MixVoice) for en in entries for v in en.voices)
    if opts.mix_file is None and mix_used:
        warnings.append(f"{where}: mix/AMP voices are used but no -m file is given; they are "
                        f"silent")
    return m.SbgTimeline(
        path=seq.path, duration_s=duration, description=list(seq.description), spans=spans,
        bells=bells, periods=periods, transitions=trans, slots=slots,
        mix_file=opts.mix_file,
        mix_always_amp=100.0 if (opts.mix_file is not None and not mix_used) else None,
        volume=opts.volume, fade_s=fade,
        start_clock_ms=(entries[0].clock_ms + int(round(start_s * 1000))) % H24_MS,
        waves=dict(seq.waves), notes=notes, warnings=warnings)


def _clip(sp: m.Span, t0: float, t1: float) -> m.Span | None:
    """Cut a span to [t0, t1], shift it by -t0, and label its intervals."""
    if sp.end_s <= t0 or sp.start_s >= t1:
        return None
    pts = []
    if sp.start_s < t0:
        pts.append(sp.at(t0))
    pts.extend(p for p in sp.points if t0 <= p.t_s <= t1)
    if sp.end_s > t1:
        pts.append(sp.at(t1))
    pts = [replace(p, t_s=p.t_s - t0) for p in pts]
    # drop exact duplicates
    dedup = [pts[0]]
    for p in pts[1:]:
        if p != dedup[-1]:
            dedup.append(p)
    # drop points in the middle of a hold (three equal values in a row)
    merged = [dedup[0]]
    for k in range(1, len(dedup) - 1):
        a, b, c = merged[-1], dedup[k], dedup[k + 1]
        if (a.a, a.b, a.amp) == (b.a, b.b, b.amp) == (c.a, c.b, c.amp):
            continue
        merged.append(b)
    if len(dedup) > 1:
        merged.append(dedup[-1])
    dedup = merged
    if len(dedup) < 2:
        return None
    return m.Span(sp.slot, sp.voice, dedup, [_kind(p, q) for p, q in zip(dedup, dedup[1:])])


def _kind(p: m.Point, q: m.Point) -> str:
    if q.t_s == p.t_s:
        return "step"
    if (p.a, p.b) != (q.a, q.b):
        return "slide"
    if p.amp == q.amp:
        return "hold"
    if p.amp == 0:
        return "fade_in"
    if q.amp == 0:
        return "fade_out"
    return "level"
