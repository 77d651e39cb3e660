"""Build the music-with-drums ground-truth set, offline: generated band patterns and MMA grooves.

Written 2026-11-23 (fifth session, issue #19) BEFORE any piece was generated or analysed. The
rule for the ground truth, the batches and the split below are fixed; changing them means a new
batch, never a re-labelled one.

Ground truth: the tap-along beat
--------------------------------
The beat is what a listener taps along with, by metre (one rule for every source):

1. 4/4 (and 2/2 played in 4) with a drum kit -- rock, pop, punk, funk, shuffle, swing, reggae,
   hip-hop, house, ballads: the quarter note, at every tempo from 60 to 200 BPM (a punk song at
   180 is tapped at 180, as the issue's misses at 170-200 count it);
2. drum and bass (quarter 164-180, breakbeat kick and snare, sixteenth hats): the half bar (two
   quarters: 82-90 BPM), the one exception to 1, as the issue states it;
3. 2/4 (marches, polkas, ragtime): the quarter note;
4. 3/4 (waltzes): the quarter note;
5. 6/8 and 12/8 (ballads, marches, fast 6/8 rock): the dotted quarter (two beats a 6/8 bar).

The beats are the bar's beat positions from the first bar on (intros without drums included),
at the tempo map's times; humanised notes move around them, the beats do not. A tempo change
moves the beats with it (the reference tempo of a piece is the median of 60 / beat interval).

Sources
-------
``gen``: band patterns generated here (:data:`STYLES`): a GM drum kit (FluidR3's standard, room,
power, electronic, TR-808, jazz, brush or orchestra kit), bass, a comping instrument and, in half
the pieces, a lead line, over a chord progression in a random key. Each piece draws from its own
seed: the tempo (log-uniform in the style's range), the pattern variants, the instruments, an
intro of 2 or 4 bars without drums (half the pieces), fills at the end of every 4-bar phrase and
a crash after them, a break without drums (a fifth), a tempo change (a quarter: a step of 3-7 %
at a phrase boundary, or a ramp of 4-8 % over 8 bars), humanised timing (Gaussian, 3-12 ms by
style, a laid-back snare in hip-hop), velocities and swing where the style has it.

``mma``: the grooves of Musical MIDI Accompaniment's standard library (Debian ``mma``, GPL-2+,
written by its author, not here), each over a chord chart drawn from the same progressions. The
library's own conventions are mapped to rule 1-5 mechanically from each style file's ``Time``,
``Timesig`` and documentation: ``Time 4`` / ``4 4``: the MMA beat (quarter); styles whose
documentation says they are 2/4 written in 4 ("double the tempo": march, polka, ragtime, dixie,
broadway, bwmarch, fastswing, quickstep, merengue, samba, ska): two MMA beats; ``Time 3`` /
``3 4``: the MMA beat; ``Time 2`` / ``6 8`` (68march) and ``Time 4`` / ``6 8`` (ballad68) and
the 12/8 ballads written in 4 (ballad128, blues128): the MMA beat (dotted quarter); ``Time 6`` /
``6 8`` (68swing, blues68): three MMA beats. Skipped: 5/4, the metronomes, ``none``, files with
no ``Time`` or a 3/4 ``Time`` under a 4/4 signature (vienesewaltz), arpeggio68, and any groove
that plays fewer than two drum notes a bar (ragtime, some ballads: not music with drums). MMA tempo in
truth beats per minute, log-uniform by seed: 60-84 when the style name says slow, ballad,
lullaby, hymn or spiritual; 160-200 when it says fast, bebop, jive or bluegrass (150-190 in 3/4);
96-136 for the 2/4-in-4 styles; 56-100 for Time 6; otherwise 84-150 (3/4: 84-180).

Batches and the split (fixed)
-----------------------------
(d3, f3 and f4 were added on 2026-12-05 after f1 and f2 had been scored, before any change of the
method was tried on them: rendered, never analysed.)

- ``d1`` (development): ``gen``, 3 pieces per style, seeds from ``("d1", style, k)``.
- ``d2`` (development): ``mma`` grooves whose SHA-1(file name) first byte is even, the first 30
  in SHA-1 order that pass the drum screen.
- ``f1`` (fresh): ``gen``, 2 pieces per style, seeds from ``("f1", style, k)``.
- ``f2`` (fresh): ``mma`` grooves whose first byte is odd, the first 30 in SHA-1 order that pass.
- ``d3`` (development): grooves of MMA's ``casio`` library (converted from a Casio keyboard's
  styles: 8 and 16 beat, pop, rock, dance, house, trance, funk, R&B, shuffles, ballads) picked
  like d2 (even first byte, the first 30 that pass). The library has no ``Timesig`` lines:
  ``Time 4`` counts as 4/4, ``Time 3`` as 3/4, ``Time 6`` as 6/8 (three MMA beats a truth beat);
  styles named polka, march, quickstep, bigband or foxtrot are skipped (whether their MMA beat is
  the quarter or the eighth is not stated). Tempo by the same name rule as the standard library.
- ``f3`` (fresh): ``gen``, 2 pieces per style, seeds from ``("f3", style, k)``.
- ``f4`` (fresh): ``casio`` grooves whose first byte is odd, the first 30 that pass.

(d4, d5, f5 and f6 were added on 2026-12-05, sixth session, before d3 had been analysed and
before f3 and f4 were scored; f5 and f6 are a reserve, rendered and never analysed until scored.)

- ``d4`` (development): ``gen``, 3 pieces per style, seeds from ``("d4", style, k)``.
- ``d5`` (development): every groove with an even first byte, of both libraries, not used by d2
  or d3 (the rest after their first 30), with seeds from ``("d5", file name)``.
- ``f5`` (fresh): ``gen``, 2 pieces per style, seeds from ``("f5", style, k)``.
- ``f6`` (fresh): every groove with an odd first byte, of both libraries, not used by f2 or f4,
  with seeds from ``("f6", file name)``.
- ``d6`` (development): ``gen``, 3 pieces per style, seeds from ``("d6", style, k)``.
- ``d7`` (development): for every style file with an even first byte (both libraries) its second
  groove, the second ``DefGroove`` in the file whose name contains none of intro, end, fill,
  break (a variant of the batch's main groove: a walking bass, sustained strings, another drum
  part), seeds from ``("d7", file name)``; files with one such groove are left out.

(f7, f8 and f9 were added on 2026-12-05, seventh session, before any change of the method was
tried: the next fresh batches, in the proportions of f3-f6 -- 60 generated pieces, two per style,
and the MMA grooves of the other parity -- rendered, never analysed until their one scoring.)

- ``f7`` (fresh): ``gen``, 2 pieces per style, seeds from ``("f7", style, k)``.
- ``f8`` (fresh): ``gen``, 2 pieces per style, seeds from ``("f8", style, k)``.
- ``f9`` (fresh): as d7 for the style files with an odd first byte (both libraries): each file's
  second groove, seeds from ``("f9", file name)``.

Fresh batches are never analysed by any tracker before the method is frozen; ``score_beats.py
--corpus drums`` skips them unless ``--fresh-batch NAME`` is given, refuses that in a worktree
with changes, and records each scoring in ``fresh_scored.json`` (one scoring per batch).

Traps handled (shared/NOTES.md): notes have explicit offs, every track gets all-notes-off and
all-sound-off (CC123, CC120) at its end, FluidSynth runs under ``timeout``; renders stop at
``MAX_SECONDS``.

Usage::

    .venv/bin/python benchmarks/analysis/drums_dataset.py [--force] [--batch d1 ...] [--list]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from build_dataset import SR, fluidsynth

OUT = Path(__file__).resolve().parents[1] / "out" / "analysis" / "drums"
MMA_ROOT = Path("/usr/share/mma/lib")
MAX_SECONDS = 60.0
TARGET_SECONDS = 56.0
BATCHES = {"d1": ("gen", "dev"), "d2": ("mma", "dev"), "f1": ("gen", "fresh"), "f2": ("mma", "fresh"),
           "d3": ("mma", "dev"), "f3": ("gen", "fresh"), "f4": ("mma", "fresh"),
           "d4": ("gen", "dev"), "d5": ("mma", "dev"), "f5": ("gen", "fresh"), "f6": ("mma", "fresh"),
           "d6": ("gen", "dev"), "d7": ("mma", "dev"), "f7": ("gen", "fresh"), "f8": ("gen", "fresh"),
           "f9": ("mma", "fresh")}
PIECES_PER_STYLE = {"d1": 3, "f1": 2, "f3": 2, "d4": 3, "f5": 2, "d6": 3, "f7": 2, "f8": 2}
MMA_BATCHES = (("d2", "stdlib", 0), ("f2", "stdlib", 1), ("d3", "casio", 0), ("f4", "casio", 1),
               ("d5", "stdlib", 0), ("d5", "casio", 0), ("f6", "stdlib", 1), ("f6", "casio", 1),
               ("d7", "stdlib", 0), ("d7", "casio", 0), ("f9", "stdlib", 1), ("f9", "casio", 1))
MMA_VARIANT = ("d7", "f9")  # these batches play each file's second groove (see the docstring)
# the rest batches: every groove of their parity not used by these batches, no cap
MMA_REST = {"d5": ("d2", "d3"), "f6": ("f2", "f4")}
CASIO_SKIP = ("polka", "march", "quickstep", "bigband", "foxtrot")
MMA_PER_BATCH = 30

# GM drum notes
KICK, SIDE, SNARE, CLAP, HAT, PEDAL, OPEN, RIDE, CRASH, TAMB = 36, 37, 38, 39, 42, 44, 46, 51, 49, 54
TOMS = (50, 48, 47, 45, 43, 41)
KITS = {"standard": 0, "room": 8, "power": 16, "electronic": 24, "tr808": 25, "jazz": 32,
        "brush": 40, "orchestra": 48}

BASS_PROGRAMS = (32, 33, 34, 35, 36, 38, 39)
COMP_PROGRAMS = {"keys": (0, 1, 2, 4, 5), "organ": (16, 17, 18), "guitar": (24, 25, 26, 27, 28, 29),
                 "strings": (48, 49, 50), "pad": (88, 89, 90, 91), "brass": (61, 62), "synth": (80, 81, 87)}
LEAD_PROGRAMS = (56, 65, 66, 71, 73, 80, 81, 11, 12, 22, 64)


@dataclass
class Style:
    """One generated style. Patterns are one bar of ``steps`` grid steps: ``.`` rest, ``x`` hit,
    ``X`` accent, ``g`` ghost note, ``o`` open hat (hat line) / octave (bass line), ``f`` fifth
    (bass line), ``a`` one arpeggio note (comp line). Each drum voice lists alternatives."""

    name: str
    beats: int  # notated beats per bar (quarters; dotted quarters in 6/8)
    steps: int  # grid steps per bar
    tempo: tuple  # notated-beat BPM range
    truth_per_bar: int  # tap-along beats per bar (rule above)
    drums: dict  # GM note -> list of alternative patterns
    bass: list
    comp: list
    kits: tuple = ("standard", "room", "power")
    comps: tuple = ("keys", "guitar", "organ")
    swing: tuple = (0.5, 0.5)  # share of an eighth pair's length before the off-eighth
    jitter_ms: tuple = (3.0, 8.0)
    walking: bool = False
    fill_grid: int = 4  # fill notes per notated beat
    blues: bool = False
    extra: dict = field(default_factory=dict)


S16 = "x.x.x.x.x.x.x.x."
STYLES = [
    Style("rock", 4, 16, (90, 150), 4,
          {KICK: ["x.......x.......", "x.......x.x.....", "x......xx.......", "x.x.....x.x....."],
           SNARE: ["....X.......X...", "....X.......X..g"],
           HAT: [S16, "X.x.X.x.X.x.X.x.", "x...x...x...x..."]},
          ["x.x.x.x.x.x.x.x.", "x.......x.......", "x..x..x.x..x..x."],
          ["x.......x.......", "x.x.x.x.x.x.x.x.", "x..x..x...x....."],
          comps=("guitar", "organ", "keys")),
    Style("pop", 4, 16, (70, 125), 4,
          {KICK: ["x.....x.x.......", "x.......x.....x.", "x..x....x......."],
           SNARE: ["....X.......X...", "....X.......X..."], CLAP: ["................", "....x.......x..."],
           HAT: ["xxxxxxxxxxxxxxxx", S16], TAMB: ["................", "....x.......x...", S16]},
          ["x.......x.x.....", "x..x..x.x..x..x.", "x...x...x...x..."],
          ["x...x...x...x...", "x..x..x...x.x...", "aaaaaaaaaaaaaaaa"],
          kits=("standard", "electronic", "room"), comps=("keys", "pad", "guitar", "synth")),
    Style("punk", 4, 16, (160, 200), 4,
          {KICK: ["x.......x.......", "x.x.....x.x.....", "x...x...x...x..."],
           SNARE: ["....X.......X...", "..X...X...X...X."],
           HAT: [S16, "x...x...x...x..."], CRASH: ["................", "x...............", ]},
          ["x.x.x.x.x.x.x.x.", "xxxxxxxxxxxxxxxx"], ["x.x.x.x.x.x.x.x.", "x.......x......."],
          kits=("power", "standard", "room"), comps=("guitar",), jitter_ms=(3.0, 7.0)),
    Style("funk", 4, 16, (88, 115), 4,
          {KICK: ["x..x..x...x..x..", "x.x...x..x......", "x......x..x..x.."],
           SNARE: ["....X..g.g..X..g", ".g..X..g..g.X...", "....X.......X..."],
           HAT: ["xxxxxxxxxxxxxxxx", "XxxxXxxxXxxxXxxo", S16]},
          ["x..x..x.o.xf...x", "x.xx..x...x.x...", "x.....xo..x.x.f."],
          ["..x...x...x...x.", ".x.x..x..x.x..x.", "x.x..x.x..x..x.."],
          comps=("guitar", "keys", "organ", "brass"), jitter_ms=(3.0, 6.0)),
    Style("shuffle", 4, 12, (80, 135), 4,
          {KICK: ["x.....x.....", "x.....x.x..."], SNARE: ["...X.....X..", "...X.....X.g"],
           HAT: ["x.xx.xx.xx.x", "x.xx.xx.xx.x", "x..x..x..x.."]},
          ["x.xf.xo.xf.x", "x..f..o..f.."], ["x.xx.xx.xx.x", "...x.....x..", "x.....x....."],
          blues=True, comps=("keys", "organ", "guitar"), fill_grid=3),
    Style("swing", 4, 12, (100, 200), 4,
          {RIDE: ["X..x.xX..x.x", "x..x.xx..x.x"], PEDAL: ["...x.....x.."],
           KICK: ["g..g..g..g..", "............", "g.....g....."], SNARE: ["........g..g", ".....g......", "............"]},
          ["x..x..x..x.."], ["...x.....x..", "x.....x..x..", ".....x....x."],
          kits=("jazz", "brush"), comps=("keys", "guitar", "brass"), walking=True, fill_grid=3,
          jitter_ms=(5.0, 12.0)),
    Style("reggae", 4, 16, (64, 90), 4,
          {KICK: ["........x.......", "x.......x.......", "x...x...x...x..."],
           SIDE: ["........X.......", "........X......."], HAT: [S16, "x.xxx.xxx.xxx.xx"]},
          ["..x...x.x..x.x..", "x.....x.x...x...", "x..x..x...x.x..."],
          ["..x...x...x...x.", "..x...x...x...x."],
          comps=("guitar", "organ", "keys"), swing=(0.5, 0.6), jitter_ms=(4.0, 9.0)),
    Style("hiphop", 4, 16, (80, 100), 4,
          {KICK: ["x......x..x.....", "x.....x...x.....", "x.x.......x..x.."],
           SNARE: ["....X.......X...", "....X.......X..."], HAT: [S16, "xxxxxxxxxxxxxxxx"]},
          ["x......x..x.....", "x.....x...x....."], ["x.......x.......", "x...............", "aaaaaaaaaaaaaaaa"],
          kits=("tr808", "electronic", "standard"), comps=("keys", "pad", "strings"),
          swing=(0.5, 0.62), jitter_ms=(4.0, 9.0), extra={"snare_late_ms": (5.0, 20.0)}),
    Style("house", 4, 16, (118, 130), 4,
          {KICK: ["x...x...x...x..."], CLAP: ["....x.......x..."], OPEN: ["..x...x...x...x."],
           HAT: ["xxxxxxxxxxxxxxxx", "................", S16]},
          ["..x...x...x...x.", "x.x...x.x.x...x.", "..xx..x...x.x.x."], ["..x...x...x...x.", "x.......x.......", "x..x..x...x..x.."],
          kits=("tr808", "electronic"), comps=("pad", "keys", "synth", "organ"), jitter_ms=(1.0, 3.0)),
    Style("dnb", 4, 16, (164, 180), 2,
          {KICK: ["x.........x.....", "x.x.......x.....", "x.........xx...."],
           SNARE: ["....X.......X...", "....X..g.g..X..g", "....X..x.g..X..."],
           HAT: ["xxxxxxxxxxxxxxxx", S16], RIDE: ["................", S16]},
          ["x...............", "x.......x.......", "x.........x....."], ["x...............", "x.......x.......", "..x.......x....."],
          kits=("electronic", "standard", "tr808"), comps=("pad", "synth", "strings"), jitter_ms=(1.0, 4.0)),
    Style("waltz", 3, 6, (90, 180), 3,
          {KICK: ["x.....", "x....."], SNARE: ["..x.x.", "..g.g."], HAT: ["x.x.x.", "xxxxxx"], RIDE: ["......", "x.xxx."]},
          ["x.....", "x...f.", "x.f.o."], ["..x.x.", "aaaaaa", "x.x.x."],
          kits=("standard", "brush", "jazz"), comps=("keys", "strings", "guitar"), fill_grid=2),
    Style("march", 2, 8, (100, 126), 2,
          {KICK: ["x...x..."], SNARE: ["x.xxx.x.", "xxx.x.x.", "x.x.xxxx"], CRASH: ["x.......", "........"]},
          ["x...f..."], ["..x...x.", "x.x.x.x."],
          kits=("orchestra", "standard"), comps=("brass", "strings", "organ"), fill_grid=4),
    Style("march68", 2, 6, (100, 120), 2,
          {KICK: ["x..x..", "x....."], SNARE: ["x.xx.x", "x..xxx", "xxxx.x"], CRASH: ["x.....", "......"]},
          ["x..f.."], ["..x..x", ".xx.xx"],
          kits=("orchestra", "standard"), comps=("brass", "organ"), fill_grid=3),
    Style("ballad68", 2, 6, (44, 66), 2,
          {KICK: ["x.....", "x....x", "x.x..."], SNARE: ["...X..", "...X.."], HAT: ["xxxxxx", "x.xx.x"]},
          ["x.....", "x..f..", "x....x"], ["aaaaaa", "x..x..", "x....."],
          kits=("standard", "room", "brush"), comps=("keys", "guitar", "strings", "pad"), fill_grid=3,
          jitter_ms=(5.0, 10.0)),
    Style("rock68", 2, 6, (96, 132), 2,
          {KICK: ["x.....", "x..x..", "x.x..."], SNARE: ["...X..", "...X.."], HAT: ["xxxxxx", "x.xx.x"]},
          ["x.xx.x", "x..x..", "xxxxxx"], ["x..x..", "x.....", "x.xx.x"],
          kits=("standard", "power", "room"), comps=("guitar", "organ", "keys"), fill_grid=3),
]
STYLE_BY_NAME = {s.name: s for s in STYLES}

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
PROGRESSIONS = [(0, 4, 5, 3), (0, 3, 4, 3), (5, 3, 0, 4), (0, 5, 3, 4), (1, 4, 0, 5), (0, 3, 0, 4), (0, 6, 5, 6)]
BLUES = (0, 3, 0, 0, 3, 3, 0, 0, 4, 3, 0, 4)  # 12-bar blues, scale degrees


def seed_of(*parts) -> int:
    return int.from_bytes(hashlib.sha1(":".join(map(str, parts)).encode()).digest()[:8], "little")


def sha_byte(name: str) -> int:
    return hashlib.sha1(name.encode()).digest()[0]


# -- generated pieces ----------------------------------------------------------------------------

def tempo_map(style: Style, rng, n_bars: int, bpm0: float):
    """Per-bar notated-beat tempi: constant, a step at a phrase boundary, or a ramp over 8 bars."""
    tempi = np.full(n_bars, bpm0)
    change = "none"
    u = rng.random()
    if u < 0.125 and n_bars >= 12:
        at = 4 * int(rng.integers(1, max(2, n_bars // 4)))
        tempi[at:] *= 1.0 + float(rng.choice([-1, 1])) * rng.uniform(0.03, 0.07)
        change = "step"
    elif u < 0.25 and n_bars >= 12:
        at = 4 * int(rng.integers(1, max(2, (n_bars - 8) // 4)))
        end = min(n_bars, at + 8)
        total = float(rng.choice([-1, 1])) * rng.uniform(0.04, 0.08)
        ramp = np.linspace(0, total, end - at + 1)[1:]
        tempi[at:end] *= 1.0 + ramp
        tempi[end:] *= 1.0 + total
        change = "ramp"
    lo, hi = style.tempo
    tempi = np.clip(tempi, lo * 0.9, hi * 1.1)
    return tempi, change


def step_offset(style: Style, step: int, swing: float) -> float:
    """Position of a grid step inside the bar, in notated beats (swing moves off-eighths)."""
    per_beat = style.steps / style.beats
    beat, sub = divmod(step, per_beat)
    frac = sub / per_beat
    if per_beat == 4 and swing != 0.5:  # sixteenth grid: swing the eighth pairs
        frac = {0: 0.0, 1: swing / 2, 2: swing, 3: swing + (1 - swing) / 2}[int(sub)]
    return beat + frac


def chord_tones(root_pc: int, mode, degree: int, octave: int):
    scale = MAJOR if mode == "major" else MINOR
    notes = [scale[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]
    return [12 * octave + root_pc + n for n in notes]


def generate_piece(style: Style, seed: int):
    """One generated piece: (PrettyMIDI, truth beats in seconds, metadata)."""
    import pretty_midi

    rng = np.random.default_rng(seed)
    bpm0 = float(np.exp(rng.uniform(np.log(style.tempo[0]), np.log(style.tempo[1]))))
    bar_s0 = 60.0 * style.beats / bpm0
    n_bars = int(math.ceil(TARGET_SECONDS / bar_s0)) + 1
    intro = int(rng.choice([2, 4])) if rng.random() < 0.5 else 0
    tempi, change = tempo_map(style, rng, n_bars, bpm0)
    bar_len = 60.0 * style.beats / tempi
    bar_start = np.concatenate(([0.0], np.cumsum(bar_len)))
    swing = float(rng.uniform(*style.swing))
    jitter = float(rng.uniform(*style.jitter_ms)) / 1000.0
    snare_late = float(rng.uniform(*style.extra.get("snare_late_ms", (0.0, 0.0)))) / 1000.0
    brk = None
    if rng.random() < 0.2 and n_bars > intro + 12:
        brk = intro + 8 + 4 * int(rng.integers(0, max(1, (n_bars - intro - 12) // 4)))
    mode = "minor" if rng.random() < 0.35 else "major"
    key = int(rng.integers(0, 12))
    prog = BLUES if style.blues else PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
    kit = str(rng.choice(style.kits))
    comp_family = str(rng.choice(style.comps))
    comp_prog = int(rng.choice(COMP_PROGRAMS[comp_family]))
    bass_prog = int(rng.choice(BASS_PROGRAMS)) if style.name not in ("march", "march68") else 58  # tuba
    lead_prog = int(rng.choice(LEAD_PROGRAMS)) if rng.random() < 0.5 else None
    pick = {note: pats[int(rng.integers(len(pats)))] for note, pats in style.drums.items()}
    pick_b = {note: pats[int(rng.integers(len(pats)))] for note, pats in style.drums.items()}  # B section
    bass_pat = style.bass[int(rng.integers(len(style.bass)))]
    comp_pat = style.comp[int(rng.integers(len(style.comp)))]

    def t_of(bar, pos_beats):
        return bar_start[bar] + pos_beats * bar_len[bar] / style.beats

    def human(t, sd=None):
        return max(0.0, t + rng.normal(0.0, jitter if sd is None else sd))

    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    drums = pretty_midi.Instrument(program=KITS[kit], is_drum=True, name="drums")
    bass = pretty_midi.Instrument(program=bass_prog, name="bass")
    comp = pretty_midi.Instrument(program=comp_prog, name="comp")
    lead = pretty_midi.Instrument(program=lead_prog or 0, name="lead")
    vel_of = {"x": 96, "X": 116, "g": 42, "o": 96, "f": 96, "a": 84}
    for bar in range(n_bars):
        deg = prog[(bar - intro) % len(prog)] if bar >= intro else prog[bar % len(prog)]
        tones = chord_tones(key, mode, deg, 5)
        root = tones[0] - 24
        section_b = ((bar - intro) // 8) % 2 == 1
        drums_on = bar >= intro and not (brk is not None and brk <= bar < brk + 2)
        phrase_end = bar >= intro and (bar - intro) % 4 == 3
        if drums_on:
            pats = pick_b if section_b else pick
            for note, pat in pats.items():
                fill_from = style.steps // 2 if phrase_end and note in (SNARE, KICK, SIDE, CLAP) else style.steps
                for k, c in enumerate(pat):
                    if c == "." or k >= fill_from:
                        continue
                    if note == CRASH and (bar - intro) % 4:
                        continue
                    t = human(t_of(bar, step_offset(style, k, swing)))
                    if note in (SNARE, CLAP, SIDE):
                        t += snare_late
                    n = OPEN if c == "o" else note
                    v = int(np.clip(vel_of.get(c, 96) + rng.normal(0, 7), 20, 127))
                    drums.notes.append(pretty_midi.Note(v, n, t, t + 0.08))
            if phrase_end:  # fill over the second half of the bar, then a crash
                per_beat = style.fill_grid
                half = style.beats / 2.0
                n_fill = int(round(half * per_beat))
                toms = [SNARE] * 2 + list(TOMS[: int(rng.integers(2, 5))])
                for j in range(n_fill):
                    if rng.random() < 0.15:
                        continue
                    pos = half + j / per_beat
                    t = human(t_of(bar, pos))
                    note = toms[min(len(toms) - 1, j * len(toms) // n_fill)]
                    drums.notes.append(pretty_midi.Note(int(rng.integers(80, 118)), note, t, t + 0.08))
            if CRASH not in pats and bar >= intro and (bar - intro) % 4 == 0 and (bar == intro or rng.random() < 0.7):
                t = human(t_of(bar, 0.0))
                drums.notes.append(pretty_midi.Note(int(rng.integers(95, 120)), CRASH, t, t + 0.5))
                if KICK not in pick or pick[KICK][0] == ".":
                    drums.notes.append(pretty_midi.Note(100, KICK, t, t + 0.08))
        # bass (walking quarters for swing)
        if style.walking:
            scale = MAJOR if mode == "major" else MINOR
            for b in range(style.beats):
                step = [0, 2, 4, int(rng.choice([1, 3, 5, 6]))][b % 4]
                pitch = root + scale[step % 7] - 12 * (scale[step % 7] > 7)
                t = human(t_of(bar, b))
                bass.notes.append(pretty_midi.Note(int(rng.integers(80, 105)), int(pitch), t,
                                                   t + 0.9 * bar_len[bar] / style.beats))
        else:
            hits = [k for k, c in enumerate(bass_pat) if c != "."]
            for i, k in enumerate(hits):
                nxt = hits[i + 1] if i + 1 < len(hits) else style.steps
                c = bass_pat[k]
                pitch = root + {"f": 7, "o": 12}.get(c, 0)
                t0 = human(t_of(bar, step_offset(style, k, swing)))
                t1 = t_of(bar, step_offset(style, nxt, swing) if nxt < style.steps else style.beats)
                bass.notes.append(pretty_midi.Note(int(rng.integers(85, 110)), int(pitch), t0,
                                                   max(t0 + 0.05, t1 - 0.03)))
        # comping
        hits = [k for k, c in enumerate(comp_pat) if c != "."]
        for i, k in enumerate(hits):
            nxt = hits[i + 1] if i + 1 < len(hits) else style.steps
            t0 = human(t_of(bar, step_offset(style, k, swing)))
            t1 = t_of(bar, step_offset(style, nxt, swing) if nxt < style.steps else style.beats)
            notes = [tones[i % 3] - 12] if comp_pat[k] == "a" else [p - 12 for p in tones]
            for p in notes:
                comp.notes.append(pretty_midi.Note(int(rng.integers(60, 90)), int(p), t0,
                                                   max(t0 + 0.05, t1 - 0.02)))
        # lead: a loose line on the eighth grid, chord tones on beats
        if lead_prog is not None and bar >= intro:
            scale = MAJOR if mode == "major" else MINOR
            eighths = {16: 8, 12: 4, 8: 4, 6: 6}[style.steps]
            pos = 0
            while pos < eighths:
                dur = int(rng.choice([1, 2, 2, 3, 4]))
                if rng.random() < 0.55:
                    p = (rng.choice(tones) if pos % 2 == 0 else key + 12 * 6 + scale[int(rng.integers(7))])
                    t0 = human(t_of(bar, pos * style.beats / eighths))
                    t1 = t_of(bar, min(eighths, pos + dur) * style.beats / eighths)
                    lead.notes.append(pretty_midi.Note(int(rng.integers(70, 100)), int(p), t0,
                                                       max(t0 + 0.05, t1 - 0.03)))
                pos += dur
    pm.instruments += [drums, bass, comp] + ([lead] if lead_prog is not None else [])
    truth = np.concatenate([bar_start[b] + np.arange(style.truth_per_bar) * bar_len[b] / style.truth_per_bar
                            for b in range(n_bars)])
    meta = {"style": style.name, "notated_bpm": round(bpm0, 2), "beats_per_bar": style.beats,
            "truth_per_bar": style.truth_per_bar, "tempo_change": change, "intro_bars": intro,
            "break_bar": brk, "kit": kit, "comp_program": comp_prog, "bass_program": bass_prog,
            "lead_program": lead_prog, "swing": round(swing, 3), "jitter_ms": round(1000 * jitter, 1)}
    return pm, truth, meta


# -- MMA grooves ---------------------------------------------------------------------------------

MMA_DOUBLE = ("march", "polka", "ragtime", "dixie", "broadway", "bwmarch", "fastswing", "quickstep",
              "merengue", "samba", "ska")


def mma_styles(lib: str = "stdlib"):
    """(file stem, groove name, MMA beats per truth beat, truth tempo range, MMA beats a bar,
    library) for every usable style of an MMA library, by the rule in the module docstring."""
    out = []
    for f in sorted((MMA_ROOT / lib).glob("*.mma")):
        text = f.read_text(errors="replace")
        stem = f.stem.lower()
        tm = re.search(r"^\s*Time\s+(\d+)", text, re.M | re.I)
        ts = re.search(r"^\s*Timesig\s+(\d+)[\s/]+(\d+)", text, re.M | re.I)
        gv = re.search(r"^\s*DefGroove\s+(\S+)", text, re.M | re.I)
        grooves = [g for g in re.findall(r"^\s*DefGroove\s+(\S+)", text, re.M | re.I)
                   if not any(w in g.lower() for w in ("intro", "end", "fill", "break"))]
        if lib == "casio" and tm and not ts and not any(w in stem for w in CASIO_SKIP):
            ts = {"4": (4, 4), "3": (3, 4), "6": (6, 8)}.get(tm.group(1))
        elif ts:
            ts = (int(ts.group(1)), int(ts.group(2)))
        if not tm or not ts or not gv or stem.startswith("metronome") or stem in ("none", "arpeggio68"):
            continue
        time, sig = int(tm.group(1)), ts
        slow = any(w in stem for w in ("slow", "ballad", "lullaby", "hymn", "spiritual"))
        fast = any(w in stem for w in ("fast", "bebop", "jive", "bluegrass"))
        if stem in MMA_DOUBLE:
            per, rng_ = 2, (96, 136)
        elif time == 4 and sig == (4, 4):
            per, rng_ = 1, (60, 84) if slow else (160, 200) if fast else (84, 150)
        elif time == 3 and sig == (3, 4):
            per, rng_ = 1, (60, 84) if slow else (150, 190) if fast else (84, 180)
        elif time in (2, 4) and sig == (6, 8):
            per, rng_ = 1, (44, 66) if slow else (100, 120)
        elif time == 6 and sig == (6, 8):
            per, rng_ = 3, (56, 100)
        else:
            continue
        out.append((f.stem, gv.group(1), per, rng_, time, lib, grooves[1] if len(grooves) > 1 else None))
    return out


def mma_piece(stem, groove, per, trange, time, lib, seed, work: Path):
    """Render an MMA groove to MIDI; returns (PrettyMIDI, truth beats, metadata)."""
    import pretty_midi

    rng = np.random.default_rng(seed)
    truth_bpm = float(np.exp(rng.uniform(np.log(trange[0]), np.log(trange[1]))))
    mma_bpm = round(truth_bpm * per)  # MMA keeps whole BPM
    bar_s = 60.0 * time / mma_bpm
    n_bars = int(math.ceil(TARGET_SECONDS / bar_s)) + 1
    mode = "m" if rng.random() < 0.35 else ""
    key = int(rng.integers(0, 12))
    names = ["C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"]
    prog = PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
    scale = MAJOR if not mode else MINOR
    qual = {"": ["", "m", "m", "", "", "m", "dim"], "m": ["m", "dim", "", "m", "m", "", ""]}[mode]
    lines = [f"Tempo {mma_bpm}"] + ([f"Use {lib}/{stem}"] if lib != "stdlib" else []) + [f"Groove {groove}"]
    for b in range(n_bars):
        d = prog[b % len(prog)]
        lines.append(f"{b + 1} {names[(key + scale[d]) % 12]}{qual[d]}")
    src = work / f"{stem}.mma"
    mid = work / f"{stem}.mma.mid"
    src.write_text("\n".join(lines) + "\n")
    r = subprocess.run(["timeout", "60", "mma", "-f", str(mid), str(src)], capture_output=True, text=True)
    src.unlink(missing_ok=True)
    if r.returncode != 0 or not mid.exists():
        raise RuntimeError(f"mma failed: {r.stdout[-200:]} {r.stderr[-200:]}")
    pm = pretty_midi.PrettyMIDI(str(mid))
    mid.unlink(missing_ok=True)
    n_drum = sum(len(i.notes) for i in pm.instruments if i.is_drum)
    if n_drum < 2 * n_bars:
        raise ValueError(f"{n_drum} drum notes in {n_bars} bars: not music with drums")
    # the truth beats from the file's own tempo map: one MIDI quarter is one MMA beat
    truth = np.array([pm.tick_to_time(int(k * per * pm.resolution)) for k in range(n_bars * time // per)])
    meta = {"style": stem, "library": lib, "groove": groove, "mma_bpm": round(mma_bpm, 3), "mma_beats_per_truth": per,
            "mma_time": time, "key": names[key] + mode}
    return pm, truth, meta


# -- rendering -----------------------------------------------------------------------------------

def render(pm, truth, pid: str, force: bool) -> dict | None:
    """Write ``<pid>.mid``, ``<pid>.wav`` and ``<pid>.beats.txt``; returns length and tempo."""
    import pretty_midi

    wav, txt, mid = OUT / f"{pid}.wav", OUT / f"{pid}.beats.txt", OUT / f"{pid}.mid"
    end = min(max((n.end for i in pm.instruments for n in i.notes), default=0.0), MAX_SECONDS + 2.0)
    for inst in pm.instruments:  # clip to the rendered minute; stuck-note guard
        inst.notes = [n for n in inst.notes if n.start < MAX_SECONDS]
        for n in inst.notes:
            n.end = min(n.end, MAX_SECONDS + 2.0)
        inst.control_changes = [c for c in inst.control_changes if c.time < end]
        inst.control_changes.append(pretty_midi.ControlChange(123, 0, end + 0.05))
        inst.control_changes.append(pretty_midi.ControlChange(120, 0, end + 0.05))
    if force or not (wav.exists() and txt.exists()):
        pm.write(str(mid))
        tmp = OUT / f"{pid}.part.wav"
        if not fluidsynth(mid, tmp, pid):
            return None
        import soundfile as sf

        y, sr = sf.read(tmp, dtype="float32")
        sf.write(wav, y[: int(MAX_SECONDS * sr)], sr, subtype="PCM_16")
        tmp.unlink()
    bt = np.asarray(truth)
    bt = bt[bt <= min(end, MAX_SECONDS)]
    np.savetxt(txt, bt, fmt="%.6f")
    ibi = np.diff(bt)
    return {"ref_bpm": round(float(60.0 / np.median(ibi)), 3), "seconds": round(float(min(end, MAX_SECONDS)), 2)}


def plan():
    """Every piece of every batch: (batch, id, source, builder arguments)."""
    out = []
    for batch, n in PIECES_PER_STYLE.items():
        for st in STYLES:
            for k in range(n):
                out.append((batch, f"gen_{st.name}_{batch}_{k}", "gen", (st.name, seed_of(batch, st.name, k))))
    for batch, lib, parity in MMA_BATCHES:
        styles = sorted(mma_styles(lib), key=lambda s: hashlib.sha1(s[0].encode()).digest())
        prefix = "mma_" if lib == "stdlib" else f"mma_{lib}_"
        for s in (s for s in styles if sha_byte(s[0]) % 2 == parity):  # the first 30 that pass: main()
            if batch in MMA_VARIANT:
                if s[6] is None:
                    continue
                s = (s[0], s[6]) + s[2:]
            out.append((batch, f"{prefix}{s[0].lower()}_{batch}", "mma", s[:6] + (seed_of(batch, s[0]),)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="re-render cached pieces")
    ap.add_argument("--batch", nargs="*", choices=sorted(BATCHES), help="only these batches (default all)")
    ap.add_argument("--list", action="store_true", help="list the pieces, render nothing")
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    work = OUT / "tmp"
    work.mkdir(exist_ok=True)
    pieces = [p for p in plan() if not args.batch or p[0] in args.batch]
    if args.list:
        for batch, pid, source, a in pieces:
            print(batch, pid)
        return 0
    mpath = OUT / "manifest.json"
    manifest = {m["id"]: m for m in json.loads(mpath.read_text())} if mpath.exists() else {}
    taken = {}
    for batch, pid, source, a in pieces:
        if source == "mma" and batch in MMA_REST:
            used = {(m.get("library", "stdlib"), m["style"]) for m in manifest.values()
                    if m["batch"] in MMA_REST[batch]}
            if not used:
                print(f"{pid}: skipped (build {' and '.join(MMA_REST[batch])} first)", file=sys.stderr)
                continue
            if (a[5], a[0]) in used:
                continue
        elif source == "mma" and batch not in MMA_VARIANT and taken.get(batch, 0) >= MMA_PER_BATCH:
            continue
        try:
            if source == "gen":
                pm, truth, meta = generate_piece(STYLE_BY_NAME[a[0]], a[1])
            else:
                pm, truth, meta = mma_piece(*a, work=work)
            info = render(pm, truth, pid, args.force)
        except Exception as exc:  # one piece failing must not stop the batch: say which and why
            print(f"{pid}: skipped ({type(exc).__name__}: {exc})", file=sys.stderr)
            continue
        if info is None:
            continue
        taken[batch] = taken.get(batch, 0) + 1
        manifest[pid] = {"id": pid, "batch": batch, "split": BATCHES[batch][1], "source": source,
                         "bpm": info["ref_bpm"], "seconds": info["seconds"], **meta}
        print(f"{pid}: {info['ref_bpm']:.1f} BPM", file=sys.stderr, flush=True)
        mpath.write_text(json.dumps(sorted(manifest.values(), key=lambda m: (m["batch"], m["id"])), indent=1))
    print(f"{len(manifest)} pieces in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
