"""SBaGen's built-in programs ``-p drop`` and ``-p slide``, expanded into tone-sets and time lines.

This reproduces SBaGen 1.4.5's ``create_drop`` and ``create_slide`` exactly, including the
rounding of every generated number to 6 significant digits (SBaGen formats them with ``%g`` and
parses them back).

``-p drop [tDROP,HOLD,WAKE] LEVEL[s|k][+][^][/AMP] [tone-specs...]``
    ``LEVEL`` is ``NN[.N]`` followed by a letter ``a``-``l``. Carrier: starts at
    ``205 - 2*NN`` Hz and ends at ``200 - 2*NN`` Hz. Beat: from 10 Hz down to the letter's target
    (a 4.4, b 3.7, c 3.1, d 2.5, e 2.0, f 1.5, g 1.2, h 0.9, i 0.7, j 0.5, k 0.4, l 0.3 Hz),
    geometrically, over the drop time (default 30 min, rounded up to whole steps). Steps are 3 min
    (or 1 min with ``k``); with ``s`` the beat slides continuously (1-minute breakpoints).
    ``+`` adds the hold time (default 30 min) at the final beat while the carrier keeps falling;
    ``^`` adds a wake-up of WAKE minutes (default 3) sliding back to the starting tone.
    ``/AMP`` is the tone's amplitude (default 1). Extra tone-specs (``pink/30``, ``mix/100``) play
    throughout in the slots after the tone.
``-p slide [tMINUTES] CARRIER+BEAT/AMP [tone-specs...]``
    The carrier slides from CARRIER down to BEAT/2 Hz over MINUTES (default 30) with the beat held.

Both start with a 5 s fade-in (from 23:59:55) and end with a 10 s fade-out, and imply ``-SE``.
"""
from __future__ import annotations

import math
import re

from . import model as m
from .parser import _Ctx, parse_voice

H24_MS = 86_400_000
_BEAT_TARGETS = (4.4, 3.7, 3.1, 2.5, 2.0, 1.5, 1.2, 0.9, 0.7, 0.5, 0.4, 0.3)
_F = r"(?:\d+(?:\.\d*)?|\.\d+)"
_RE_DROP = re.compile(rf"(\d+(?:\.\d*)?)([a-lA-L])([sk]?)(\+?)(\^?)(?:/({_F}))?")
_RE_DROP_T = re.compile(rf"t({_F}),({_F}),({_F})")
_RE_SLIDE = re.compile(rf"({_F})([+-]{_F})/({_F})")

DROP_USAGE = ("expected -p drop [tDROP,HOLD,WAKE] LEVEL[s|k][+][^][/AMP] [tone-specs...], "
              "LEVEL being two digits and a letter a-l, e.g. 00ds+ or 25gs+^/2")
SLIDE_USAGE = ("expected -p slide [tMINUTES] CARRIER+BEAT/AMP [tone-specs...], "
               "e.g. -p slide 200+10/1 mix/100")


def _g(x: float) -> str:
    return "%g" % x


def expand_program(prog: m.Program, ctx: _Ctx) -> tuple[list[m.ToneSet], list[m.TimeLine],
                                                         list[str]]:
    """Expand one program into generated tone-sets, time lines and summary notes.

    Parameters
    ----------
    prog : Program
        The ``-p`` option.
    ctx : _Ctx
        The parser's context, for messages.

    Returns
    -------
    tonesets, timelines, notes
    """
    if prog.kind == "drop":
        return _drop(prog, ctx)
    return _slide(prog, ctx)


class _Gen:
    def __init__(self, prog: m.Program, ctx: _Ctx):
        self.prog, self.ctx = prog, ctx
        self.tonesets: list[m.ToneSet] = []
        self.timelines: list[m.TimeLine] = []
        self.warnings: list[str] = []

    def toneset(self, name: str, specs: str) -> None:
        voices = tuple(parse_voice(w, self.prog.line, self.ctx, self.warnings)
                       for w in specs.split())
        self.tonesets.append(m.ToneSet(name, voices, self.prog.line))

    def at(self, tim_s: int, marks: str, name: str, arrow: bool) -> None:
        ms = (tim_s * 1000) % H24_MS
        text = "%02d:%02d:%02d" % (tim_s // 3600 % 24, tim_s // 60 % 60, tim_s % 60)
        self.timelines.append(m.TimeLine(m.TimeExpr(text, absolute_ms=ms), name, self.prog.line,
                                         marks[0], marks[1], arrow))


def _drop(prog: m.Program, ctx: _Ctx):
    args = list(prog.args)
    where = f"-p drop {' '.join(args)}"

    def bad(why: str):
        return ctx.err(prog.line, f'"{where}": {why}; {DROP_USAGE}')

    len0, len1, len2 = 1800, 1800, 180
    if args and args[0].startswith("t"):
        mt = _RE_DROP_T.fullmatch(args[0])
        if not mt:
            raise bad(f'bad time spec "{args[0]}"')
        len0, len1, len2 = (60 * int(float(mt.group(k))) for k in (1, 2, 3))
        args.pop(0)
    if not args:
        raise bad("the drop spec is missing")
    fmt = args.pop(0)
    extra = " ".join(args)
    mt = _RE_DROP.fullmatch(fmt)
    if not mt:
        raise bad(f'bad drop spec "{fmt}"')
    carr = 200 - 2 * float(mt.group(1))
    if carr < 0:
        raise bad(f'level {mt.group(1)} is above 100')
    beat_target = _BEAT_TARGETS[ord(mt.group(2).lower()) - ord("a")]
    slide = mt.group(3) == "s"
    steplen = 60 if mt.group(3) in ("s", "k") else 180
    if len0 < 1:
        raise bad("the drop time must be at least one minute")
    n_step = 1 + (len0 - 1) // steplen
    if n_step < 2:
        raise bad(f"the drop time must span at least two {steplen // 60}-minute steps")
    len0 = n_step * steplen
    if not slide:
        len1 = (1 + (len1 - 1) // steplen) * steplen
    islong = mt.group(4) == "+"
    wakeup = mt.group(5) == "^"
    amp = float(mt.group(6)) if mt.group(6) else 1.0

    total = len0 + len1 if islong else len0
    c0, c2 = carr + 5.0, carr
    beat = [10 * math.exp(math.log(beat_target / 10) * a / (n_step - 1)) for a in range(n_step)]

    g = _Gen(prog, ctx)
    g.toneset("off", "-")
    g.at(86395, "==", "off", True)
    if slide:
        for a in range(n_step):
            tim = a * len0 // (n_step - 1)
            g.toneset(f"ts{a:02d}", f"{_g(c0 + (c2 - c0) * tim * 1.0 / total)}+{_g(beat[a])}/"
                                   f"{_g(amp)} {extra}")
            g.at(tim, "==", f"ts{a:02d}", True)
        if islong:
            g.toneset("tsend", f"{_g(c2)}+{_g(beat[-1])}/{_g(amp)} {extra}")
            g.at(total, "==", "tsend", True)
        end = total
    else:
        lim = total // steplen
        stepslide = 5 if steplen < 90 else 10
        for a in range(lim):
            tim0, tim1 = a * steplen, (a + 1) * steplen
            g.toneset(f"ts{a:02d}", f"{_g(c0 + (c2 - c0) * tim1 / total)}+"
                                   f"{_g(beat[min(a, n_step - 1)])}/{_g(amp)} {extra}")
            g.at(tim0, "==", f"ts{a:02d}", True)
            g.at(tim1 - stepslide, "==", f"ts{a:02d}", True)
        end = total - stepslide
    if wakeup:
        g.toneset("tswake", f"{_g(c0)}+{_g(beat[0])}/{_g(amp)} {extra}")
        g.at(end + len2, "==", "tswake", True)
        end += len2
    g.at(end + 10, "==", "off", False)

    how = "slides" if slide else "steps"
    notes = [ctx.warn_text(prog.line,
                           f"{where}: carrier {how} from {_g(c0)} Hz to {_g(c2)} Hz over "
                           f"{total // 60} min; beat from {_g(beat[0])} Hz to {_g(beat[-1])} Hz "
                           f"over {len0 // 60} min" +
                           (f"; wake-up of {len2 // 60} min back to the start" if wakeup else ""))]
    return g.tonesets, g.timelines, notes + g.warnings


def _slide(prog: m.Program, ctx: _Ctx):
    args = list(prog.args)
    where = f"-p slide {' '.join(args)}"

    def bad(why: str):
        return ctx.err(prog.line, f'"{where}": {why}; {SLIDE_USAGE}')

    length = 1800
    if args and args[0].startswith("t"):
        try:
            length = int(60.0 * float(args[0][1:]))
        except ValueError:
            raise bad(f'bad time spec "{args[0]}"') from None
        args.pop(0)
    if not args:
        raise bad("the slide spec is missing")
    mt = _RE_SLIDE.fullmatch(args.pop(0))
    if not mt:
        raise bad("bad slide spec")
    if length < 1:
        raise bad("the slide must last at least one second")
    c0, beat, amp = float(mt.group(1)), float(mt.group(2)), float(mt.group(3))
    c1 = abs(beat) / 2
    extra = " ".join(args)
    g = _Gen(prog, ctx)
    g.toneset("off", "-")
    g.at(86395, "==", "off", True)
    g.toneset("ts0", f"{_g(c0)}{'%+g' % beat}/{_g(amp)} {extra}")
    g.at(0, "==", "ts0", True)
    g.toneset("ts1", f"{_g(c1)}{'%+g' % beat}/{_g(amp)} {extra}")
    g.at(length, "==", "ts1", True)
    g.at(length + 10, "==", "off", False)
    notes = [ctx.warn_text(prog.line, f"{where}: carrier slides from {_g(c0)} Hz to {_g(c1)} Hz "
                                      f"over {_g(length / 60)} min, beat held at {_g(beat)} Hz")]
    return g.tonesets, g.timelines, notes + g.warnings
