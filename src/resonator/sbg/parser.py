"""Read SBaGen ``.sbg`` sequence files into :class:`~resonator.sbg.model.SbgSequence`.

The grammar follows SBaGen 1.4.5's ``readSeq``/``readNameDef``/``readTimeLine`` plus SBaGen+
1.5.5's additions:

* ``#`` starts a comment anywhere on a line; ``##`` comments are the description.
* Lines starting with ``-`` are option lines; they are only allowed before the first tone-set,
  block or time line (as in SBaGen). ``-i SPECS...`` and ``-p drop|slide ARGS...`` take the rest
  of the line.
* ``name: ...`` (a letter, then letters, digits, ``_`` or ``-``, a colon and white space) defines
  a tone-set, a block (``name: {`` up to a line ``}``; block lines must use relative times) or a
  user waveform (``waveNN: v v v ...``).
* Anything else is a time line: ``TIME [FADES] NAME [->]``.

Errors raise :class:`resonator.errors.RecipeError` with ``where`` = ``file:line``. Valid things
that resonator cannot use are collected in ``SbgSequence.warnings`` instead.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import RecipeError
from . import model as m

N_SLOTS = 16  # SBaGen's N_CH: voices after the 16th are ignored (with a warning here)

_F = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"      # unsigned number
_SF = r"[+-]" + _F                                     # signed number (sign required)
_WAVEFORMS = ("sine", "square", "triangle", "sawtooth")

_RE_NOISE = re.compile(rf"(pink|white|brown)/({_F})")
_RE_MIX = re.compile(rf"mix/({_F})")
_RE_BELL = re.compile(rf"bell([+-]?{_F})/({_F})")
_RE_WAVE = re.compile(rf"wave(\d\d?):({_F})({_SF})/({_F})")
_RE_SPIN = re.compile(rf"(spin|bspin|wspin):({_F})({_SF})/({_F})")
_RE_PREFIX = re.compile(r"(sine|square|triangle|sawtooth):(.*)")
_RE_BINAURAL = re.compile(rf"({_F})({_SF})/({_F})")
_RE_ISO = re.compile(rf"({_F})@({_F})/({_F})")
_RE_TONE = re.compile(rf"({_F})/({_F})")
_RE_MIXSPIN = re.compile(rf"mixspin:({_F})({_SF})/({_F})")
_RE_MIXPULSE = re.compile(rf"mixpulse:({_F})/({_F})")

_RE_NAMEDEF = re.compile(r"([A-Za-z][A-Za-z0-9_-]*):(?=\s|$)")
_RE_CLOCK = re.compile(r"(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?")
_RE_WAVEDEF = re.compile(r"wave(\d\d)")

SPECS_ALLOWED = ("-, pink/AMP, white/AMP, brown/AMP, mix/AMP, CARRIER+BEAT/AMP, "
                 "CARRIER-BEAT/AMP, CARRIER/AMP, CARRIER@PULSE/AMP, bell+FREQ/AMP, "
                 "spin:WIDTH+RATE/AMP, bspin:WIDTH+RATE/AMP, wspin:WIDTH+RATE/AMP, "
                 "waveNN:CARRIER+BEAT/AMP, mixspin:WIDTH+RATE/AMP, mixpulse:PULSE/AMP "
                 "(tones may be prefixed with sine:, square:, triangle: or sawtooth:)")

# Option letters: those taking an argument, and those that do not.
_OPT_ARG = set("mLTFcqrbodRVwB")
_OPT_FLAG = set("QESDMOWNh")


class _Ctx:
    """Where we are, for error messages."""

    def __init__(self, path: str):
        self.path = path
        self.name = path

    def err(self, line: int, message: str) -> RecipeError:
        return RecipeError(message, where=f"{self.name}:{line}")

    def warn_text(self, line: int, message: str) -> str:
        return f"{self.name}:{line}: {message}"


# --------------------------------------------------------------------------------------------
# Small parsers
# --------------------------------------------------------------------------------------------
def parse_clock(text: str) -> int | None:
    """``hh:mm`` or ``hh:mm:ss`` (hh < 24, mm and ss < 60) to milliseconds, else None."""
    mt = _RE_CLOCK.fullmatch(text)
    if not mt:
        return None
    hh, mm, ss = int(mt.group(1)), int(mt.group(2)), int(mt.group(3) or 0)
    if hh >= 24 or mm >= 60 or ss >= 60:
        return None
    return ((hh * 60 + mm) * 60 + ss) * 1000


def parse_time_expr(text: str) -> m.TimeExpr | None:
    """Parse a time-line time (SBaGen's ``readTimeLine``); None when malformed."""
    p = 0
    now = False
    absolute: int | None = None
    offsets: list[int] = []
    if text.startswith("NOW"):
        now = True
        p = 3
    if p >= len(text) and not now:
        return None
    while p < len(text):
        rel = text[p] == "+"
        if rel:
            p += 1
        elif now or absolute is not None or offsets:
            return None
        mt = _RE_CLOCK.match(text, p)
        if not mt:
            return None
        ms = parse_clock(mt.group(0))
        if ms is None:
            return None
        p = mt.end()
        if rel:
            offsets.append(ms)
        else:
            absolute = ms
    return m.TimeExpr(text=text, now=now, absolute_ms=absolute, offsets_ms=tuple(offsets))


def _num(s: str) -> float:
    return float(s)


def parse_voice(word: str, line: int, ctx: _Ctx, warnings: list[str]) -> m.Voice:
    """Parse one tone spec (see :data:`SPECS_ALLOWED`)."""
    w = word
    if w == "-":
        return m.OffVoice(line=line)
    mt = _RE_NOISE.fullmatch(w)
    if mt:
        v: m.Voice = m.NoiseVoice(mt.group(1), _num(mt.group(2)), line=line, spec=w)
    elif mt := _RE_MIX.fullmatch(w):
        v = m.MixVoice(_num(mt.group(1)), line=line, spec=w)
    elif mt := _RE_BELL.fullmatch(w):
        v = m.BellVoice(abs(_num(mt.group(1))), _num(mt.group(2)), line=line, spec=w)
    elif mt := _RE_WAVE.fullmatch(w):
        v = m.WaveVoice(int(mt.group(1)), _num(mt.group(2)), _num(mt.group(3)),
                        _num(mt.group(4)), line=line, spec=w)
    elif mt := _RE_SPIN.fullmatch(w):
        color = {"spin": "pink", "bspin": "brown", "wspin": "white"}[mt.group(1)]
        v = m.SpinVoice(_num(mt.group(2)), _num(mt.group(3)), _num(mt.group(4)), color=color,
                        line=line, spec=w)
    else:
        waveform = "sine"
        body = w
        pm = _RE_PREFIX.fullmatch(w)
        if pm:
            waveform, body = pm.group(1), pm.group(2)
        if mt := _RE_BINAURAL.fullmatch(body):
            v = m.BinauralVoice(_num(mt.group(1)), _num(mt.group(2)), _num(mt.group(3)),
                                waveform=waveform, line=line, spec=w)
        elif mt := _RE_ISO.fullmatch(body):
            v = m.IsochronicVoice(_num(mt.group(1)), _num(mt.group(2)), _num(mt.group(3)),
                                  waveform=waveform, line=line, spec=w)
        elif mt := _RE_TONE.fullmatch(body):
            v = m.ToneVoice(_num(mt.group(1)), _num(mt.group(2)), waveform=waveform, line=line,
                            spec=w)
        elif mt := _RE_MIXSPIN.fullmatch(body):
            v = m.MixEffectVoice("mixspin", _num(mt.group(2)), _num(mt.group(3)),
                                 width_us=_num(mt.group(1)), waveform=waveform, line=line, spec=w)
        elif mt := _RE_MIXPULSE.fullmatch(body):
            v = m.MixEffectVoice("mixpulse", _num(mt.group(1)), _num(mt.group(2)),
                                 waveform=waveform, line=line, spec=w)
        elif pm and body != w:
            inner = parse_voice(body, line, ctx, warnings)
            warnings.append(ctx.warn_text(line, f'waveform prefix "{pm.group(1)}:" on "{body}" '
                                                f"is ignored: only tones take a waveform"))
            return inner
        else:
            raise ctx.err(line, f'unknown tone spec "{w}": expected {SPECS_ALLOWED}')
    if v.amp < 0:
        raise ctx.err(line, f'tone spec "{w}": amplitude {v.amp:g} is negative; '
                            f"amplitudes are 0-100")
    if v.amp > 100:  # (one voice past full scale: SBaGen clips it; a layer's level stops at 1)
        raise ctx.err(line, f'tone spec "{w}": amplitude {v.amp:g} is above 100; amplitudes '
                            f"are 0-100")
    return v


# --------------------------------------------------------------------------------------------
# The file
# --------------------------------------------------------------------------------------------
def read_sbg(path: str | Path) -> m.SbgSequence:
    """Read and parse an ``.sbg`` file.

    Parameters
    ----------
    path : str or Path
        The sequence file (UTF-8 or Latin-1 text).

    Returns
    -------
    SbgSequence
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise RecipeError(f"cannot read the sequence file: {exc.strerror or exc}",
                          where=str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return parse_sbg(text, path=str(path))


def parse_sbg(text: str, *, path: str = "<string>") -> m.SbgSequence:
    """Parse the text of an ``.sbg`` sequence.

    Parameters
    ----------
    text : str
        The file's content.
    path : str, optional
        Name used in messages.

    Returns
    -------
    SbgSequence
        Options, description, tone-sets, waveforms, blocks and time lines, each with its line
        number. ``-p drop``/``-p slide`` programs are expanded here into generated tone-sets and
        time lines (as SBaGen does while reading), and kept in ``programs``.

    Raises
    ------
    RecipeError
        For malformed content, naming ``file:line``, the offending text and what is allowed.
    """
    from .programs import expand_program  # local import: programs imports this module

    ctx = _Ctx(path)
    seq = m.SbgSequence(path=path, description=[], options=m.SbgOptions(), tonesets={},
                        waves={}, blocks={}, timelines=[], programs=[])
    lines = text.splitlines()
    started = False
    i = 0
    n = len(lines)

    def clean(idx: int) -> str:
        raw = lines[idx].replace("\x00", "")
        h = raw.find("#")
        if h >= 0:
            if raw[h + 1:h + 2] == "#":
                d = raw[h + 2:].rstrip()
                seq.description.append(d[1:] if d.startswith(" ") else d)
            raw = raw[:h]
        return raw.strip()

    while i < n:
        lineno = i + 1
        s = clean(i)
        i += 1
        if not s:
            continue
        if s.startswith("-"):
            if started:
                raise ctx.err(lineno, f'option line "{s}" after tone-sets or time lines: '
                                      f"options are only allowed at the start of the file")
            _parse_options(s, lineno, seq, ctx)
            continue
        started = True
        nd = _RE_NAMEDEF.match(s)
        if nd:
            name = nd.group(1)
            rest = s[nd.end():].strip()
            if rest == "{":
                body: list[m.TimeLine] = []
                while True:
                    if i >= n:
                        raise ctx.err(lineno, f'block "{name}" has no closing "}}" line before '
                                              f"the end of the file")
                    bl = clean(i)
                    bno = i + 1
                    i += 1
                    if not bl:
                        continue
                    if bl == "}":
                        break
                    if not bl.startswith("+"):
                        raise ctx.err(bno, f'block "{name}": line "{bl}" must start with a '
                                           f"relative time (+hh:mm[:ss])")
                    body.append(_parse_timeline(bl, bno, ctx))
                if not body:
                    raise ctx.err(lineno, f'block "{name}" is empty: a block needs at least '
                                          f"one time line")
                if name in seq.blocks or name in seq.tonesets:
                    seq.warnings.append(ctx.warn_text(lineno, f'"{name}" is defined twice; '
                                                              f"the last definition is used"))
                seq.tonesets.pop(name, None)
                seq.blocks[name] = m.Block(name, tuple(body), lineno)
                continue
            wm = _RE_WAVEDEF.fullmatch(name)
            if wm:
                idx = int(wm.group(1))
                if idx in seq.waves:
                    raise ctx.err(lineno, f"waveform {idx:02d} is already defined "
                                          f"(line {seq.waves[idx].line})")
                vals = []
                for word in rest.split():
                    try:
                        vals.append(float(word))
                    except ValueError:
                        raise ctx.err(lineno, f'waveform {name}: "{word}" is not a number; '
                                              f"expected sample values") from None
                if len(vals) < 2:
                    raise ctx.err(lineno, f"waveform {name}: expected at least two samples")
                if max(vals) == min(vals):
                    raise ctx.err(lineno, f"waveform {name}: all samples are equal; a "
                                          f"waveform needs at least two different values")
                seq.waves[idx] = m.WaveDef(idx, tuple(vals), lineno)
                continue
            words = rest.split()
            if not words:
                raise ctx.err(lineno, f'tone-set "{name}" has no voices: write "{name}: -" '
                                      f"for silence")
            if len(words) > N_SLOTS:
                seq.warnings.append(ctx.warn_text(lineno, f'tone-set "{name}" has {len(words)} '
                                                          f"voices; SBaGen uses the first "
                                                          f"{N_SLOTS} and so does resonator"))
                words = words[:N_SLOTS]
            voices = tuple(parse_voice(w, lineno, ctx, seq.warnings) for w in words)
            if name in seq.tonesets or name in seq.blocks:
                seq.warnings.append(ctx.warn_text(lineno, f'"{name}" is defined twice; the '
                                                          f"last definition is used"))
            seq.blocks.pop(name, None)
            seq.tonesets[name] = m.ToneSet(name, voices, lineno)
            continue
        if re.match(r"[A-Za-z][A-Za-z0-9_-]*:$", s):
            raise ctx.err(lineno, f'tone-set "{s[:-1]}" has no voices: write "{s} -" for '
                                  f"silence")
        seq.timelines.append(_parse_timeline(s, lineno, ctx))

    # Programs (-p) were recorded by _parse_options; expand them now, as SBaGen does on reading.
    for prog in seq.programs:
        tsets, tlines, notes = expand_program(prog, ctx)
        for ts in tsets:
            seq.tonesets[ts.name] = ts
        seq.timelines.extend(tlines)
        seq.notes.extend(notes)
        seq.options.start_at_first = True
        seq.options.end_at_last = True
    if seq.immediate is not None:
        seq.tonesets["immediate"] = seq.immediate
        seq.timelines.append(m.TimeLine(m.TimeExpr("00:00", absolute_ms=0), "immediate",
                                        seq.immediate.line))

    _check_references(seq, ctx)
    return seq


def _parse_timeline(s: str, lineno: int, ctx: _Ctx) -> m.TimeLine:
    words = s.split()
    te = parse_time_expr(words[0])
    if te is None:
        raise ctx.err(lineno, f'bad time "{words[0]}": expected hh:mm, hh:mm:ss, NOW, '
                              f"+hh:mm[:ss] or a combination such as NOW+00:10 (hours 0-23)")
    k = 1
    if k >= len(words):
        raise ctx.err(lineno, f'time line "{s}" names no tone-set or block')
    fi = fo = "-"
    w = words[k]
    if not w[0].isalpha():
        if len(w) != 2 or w[0] not in "<-=" or w[1] not in ">-=":
            raise ctx.err(lineno, f'bad fade marks "{w}": expected two characters, the first '
                                  f"one of < - =, the second one of > - =")
        fi, fo = w[0], w[1]
        k += 1
        if k >= len(words):
            raise ctx.err(lineno, f'time line "{s}" names no tone-set or block')
    name = words[k]
    k += 1
    arrow = False
    if k < len(words):
        if words[k] != "->" or k + 1 < len(words):
            raise ctx.err(lineno, f'unexpected "{" ".join(words[k:])}" after "{name}": a time '
                                  f"line may only end with ->")
        arrow = True
    return m.TimeLine(te, name, lineno, fi, fo, arrow)


def _parse_options(s: str, lineno: int, seq: m.SbgSequence, ctx: _Ctx) -> None:
    words = s.split()
    o = seq.options
    k = 0
    while k < len(words) and words[k].startswith("-") and len(words[k]) > 1:
        flags = words[k][1:]
        k += 1
        for letter in flags:
            o.line_of[letter] = lineno
            if letter in _OPT_ARG:
                if k >= len(words):
                    raise ctx.err(lineno, f"option -{letter} expects a value")
                arg = words[k]
                k += 1
                _option_with_arg(letter, arg, lineno, seq, ctx)
            elif letter in _OPT_FLAG:
                if letter == "S":
                    o.start_at_first = True
                elif letter == "E":
                    o.end_at_last = True
                elif letter == "N":
                    o.normalize = False
                elif letter == "M":
                    seq.warnings.append(ctx.warn_text(lineno, "-M (mix from standard input) is "
                                                              "not supported; ignored"))
            elif letter == "i":
                specs = words[k:]
                if not specs:
                    raise ctx.err(lineno, "-i expects tone specs")
                voices = tuple(parse_voice(w, lineno, ctx, seq.warnings) for w in specs[:N_SLOTS])
                seq.immediate = m.ToneSet("immediate", voices, lineno)
                return
            elif letter == "p":
                args = words[k:]
                if not args or args[0] not in ("drop", "slide"):
                    got = args[0] if args else "nothing"
                    raise ctx.err(lineno, f'-p expects "drop" or "slide", got "{got}"')
                seq.programs.append(m.Program(args[0], tuple(args[1:]), lineno))
                return
            else:
                seq.warnings.append(ctx.warn_text(lineno, f'unknown option -{letter} in "{s}"; '
                                                          f"the rest of the line is ignored"))
                return
    if k < len(words):
        raise ctx.err(lineno, f'unexpected "{" ".join(words[k:])}" after options: an option '
                              f"line holds only options and their values")


def _option_with_arg(letter: str, arg: str, lineno: int, seq: m.SbgSequence, ctx: _Ctx) -> None:
    o = seq.options
    if letter in "LT":
        ms = parse_clock(arg)
        if ms is None:
            raise ctx.err(lineno, f'-{letter} "{arg}": expected a time hh:mm or hh:mm:ss')
        if letter == "L":
            o.length_ms = ms
        else:
            o.start_clock_ms = ms
    elif letter == "F":
        if not re.fullmatch(r"\d+", arg):
            raise ctx.err(lineno, f'-F "{arg}": expected the fade time in whole milliseconds')
        o.fade_ms = int(arg)
    elif letter == "m":
        if o.mix_file is None:  # SBaGen: the earliest -m wins
            o.mix_file = arg
    elif letter == "r":
        from ..units import check_sample_rate

        try:
            o.sample_rate = check_sample_rate(arg)
        except RecipeError as exc:
            raise ctx.err(lineno, f'-r "{arg}": {exc.message}') from None
    elif letter == "V":
        try:
            vol = float(arg)
        except ValueError:
            vol = -1.0
        if not 0 < vol <= 100:
            raise ctx.err(lineno, f'-V "{arg}": expected a volume from 1 to 100')
        o.volume = vol
    elif letter == "w":
        if arg not in _WAVEFORMS:
            raise ctx.err(lineno, f'-w "{arg}": expected sine, square, triangle or sawtooth')
        o.waveform = arg  # type: ignore[assignment]
    elif letter == "c":
        seq.warnings.append(ctx.warn_text(lineno, f'-c "{arg}" (headphone roll-off compensation) '
                                                  f"is not supported; ignored"))
    elif letter == "q":
        o.start_at_first = True  # SBaGen: -q implies -S
    # -b -o -d -R -B: output device and format details, irrelevant to the content.


def _check_references(seq: m.SbgSequence, ctx: _Ctx) -> None:
    names = set(seq.tonesets) | set(seq.blocks)

    def check_line(tl: m.TimeLine, stack: tuple[str, ...]) -> None:
        if tl.name not in names:
            known = ", ".join(sorted(names)) or "none"
            raise ctx.err(tl.line, f'"{tl.name}" is not a defined tone-set or block '
                                   f"(defined: {known})")
        if tl.name in seq.blocks:
            if tl.name in stack:
                raise ctx.err(tl.line, f'block "{tl.name}" uses itself')
            for inner in seq.blocks[tl.name].lines:
                check_line(inner, stack + (tl.name,))

    for tl in seq.timelines:
        check_line(tl, ())
    for ts in seq.tonesets.values():
        for v in ts.voices:
            if isinstance(v, m.WaveVoice) and v.wave not in seq.waves:
                raise ctx.err(v.line, f'tone spec "{v.spec}": waveform {v.wave:02d} is not '
                                      f"defined (define it with a wave{v.wave:02d}: line)")
