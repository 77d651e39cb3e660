"""Known-answer tests for the .sbg parser (resonator.sbg.parser)."""
import re
from pathlib import Path

import pytest

from resonator.errors import RecipeError
from resonator.sbg import (BellVoice, BinauralVoice, IsochronicVoice, MixEffectVoice, MixVoice,
                           NoiseVoice, OffVoice, SpinVoice, ToneVoice, WaveVoice, parse_sbg,
                           read_sbg)
from resonator.sbg.parser import parse_time_expr

DATA = Path(__file__).parent / "data" / "sbg"


def test_binaural_sign_convention():
    seq = parse_sbg("ts: 200+10/20 200-10/20\n0:00 ts\n")
    up, down = seq.tonesets["ts"].voices
    assert up == BinauralVoice(200.0, 10.0, 20.0, line=1, spec="200+10/20")
    assert (up.left_hz, up.right_hz) == (205.0, 195.0)
    assert (down.left_hz, down.right_hz) == (195.0, 205.0)


def test_every_tone_spec_kind():
    text = ("wave03: 0 1 0.5\n"
            "all: - pink/40 white/30 brown/60 mix/100 bell+2050/20 bell2050/5 spin:200+12/80 "
            "bspin:300+4.2/40 wspin:400-8/30 300@10/20 150/5 wave03:200+4/10 square:200+10/20 "
            "triangle:300@8/15 mixpulse:8/50\n"
            "0:00 all\n")
    seq = parse_sbg(text)
    v = seq.tonesets["all"].voices
    assert isinstance(v[0], OffVoice)
    assert (v[1].color, v[1].amp) == ("pink", 40.0) and isinstance(v[1], NoiseVoice)
    assert (v[2].color, v[3].color) == ("white", "brown")
    assert isinstance(v[4], MixVoice) and v[4].amp == 100.0
    assert isinstance(v[5], BellVoice) and (v[5].freq_hz, v[5].amp) == (2050.0, 20.0)
    assert (v[6].freq_hz, v[6].amp) == (2050.0, 5.0)
    assert isinstance(v[7], SpinVoice) and (v[7].width_us, v[7].rate_hz, v[7].amp,
                                            v[7].color) == (200.0, 12.0, 80.0, "pink")
    assert (v[8].color, v[8].rate_hz) == ("brown", 4.2)
    assert (v[9].color, v[9].rate_hz) == ("white", -8.0)
    assert isinstance(v[10], IsochronicVoice) and (v[10].carrier_hz, v[10].pulse_hz,
                                                   v[10].amp) == (300.0, 10.0, 20.0)
    assert isinstance(v[11], ToneVoice) and (v[11].freq_hz, v[11].amp) == (150.0, 5.0)
    assert isinstance(v[12], WaveVoice) and (v[12].wave, v[12].carrier_hz,
                                             v[12].beat_hz) == (3, 200.0, 4.0)
    assert isinstance(v[13], BinauralVoice) and v[13].waveform == "square"
    assert isinstance(v[14], IsochronicVoice) and v[14].waveform == "triangle"
    assert isinstance(v[15], MixEffectVoice) and (v[15].effect, v[15].rate_hz) == ("mixpulse", 8)
    assert seq.waves[3].samples == (0.0, 1.0, 0.5)


def test_time_expressions():
    assert parse_time_expr("23:59:55").absolute_ms == 86_395_000
    te = parse_time_expr("NOW+00:10")
    assert te.now and te.absolute_ms is None and te.offsets_ms == (600_000,)
    te = parse_time_expr("+0:51:15")
    assert te.relative and te.offsets_ms == (3_075_000,)
    te = parse_time_expr("0:00:01+0:12+0:03")
    assert te.absolute_ms == 1000 and te.offsets_ms == (720_000, 180_000)
    for bad in ("24:00", "12:60", "1:00x", "NOW10:00", "10:00 10:00", "+", "x"):
        assert parse_time_expr(bad) is None, bad


def test_time_line_fields_and_description():
    text = ("## First line\n##\tTabbed\n# plain comment\n-SE -F 10000 -L 0:45 -m river1.ogg\n"
            "a: pink/10  # trailing comment\n"
            "00:00 == a ->\n00:10 <> a\n0:20 -> a\n")
    seq = parse_sbg(text, path="x.sbg")
    assert seq.description == ["First line", "\tTabbed"]
    o = seq.options
    assert (o.start_at_first, o.end_at_last, o.fade_ms, o.length_ms, o.mix_file) == \
        (True, True, 10000, 2_700_000, "river1.ogg")
    t0, t1, t2 = seq.timelines
    assert (t0.fade_in, t0.fade_out, t0.slide_to_next, t0.line) == ("=", "=", True, 6)
    assert (t1.fade_in, t1.fade_out, t1.slide_to_next) == ("<", ">", False)
    # "-> a": the two fade marks "-" and ">" (fade-out to silence), not a transition arrow
    assert (t2.fade_in, t2.fade_out, t2.slide_to_next) == ("-", ">", False)


def test_blocks_are_kept_with_line_numbers():
    text = "a: pink/10\nb: pink/20\nblk: {\n +0:00 a\n\n +0:03 b\n}\n0:00 blk\n"
    seq = parse_sbg(text)
    blk = seq.blocks["blk"]
    assert blk.line == 3 and [tl.line for tl in blk.lines] == [4, 6]
    assert [tl.time.offsets_ms for tl in blk.lines] == [(0,), (180_000,)]


@pytest.mark.parametrize("text, where, needle", [
    ("a: pink/10 foo/20\n0:00 a\n", "t.sbg:1", 'unknown tone spec "foo/20": expected -, pink/AMP'),
    ("a: pink/-5\n0:00 a\n", "t.sbg:1", 'unknown tone spec "pink/-5"'),
    ("a: pink/10\n0:00 a\n-SE\n", "t.sbg:3", "options are only allowed at the start"),
    ("a: pink/10\n0:00 b\n", "t.sbg:2", '"b" is not a defined tone-set or block'),
    ("a: pink/10\n0:00 <x a\n", "t.sbg:2", 'bad fade marks "<x"'),
    ("a: pink/10\n25:00 a\n", "t.sbg:2", 'bad time "25:00"'),
    ("a: pink/10\n0:00 a -> b\n", "t.sbg:2", 'unexpected "-> b"'),
    ("b: {\n +0:00 a\n", "t.sbg:1", 'block "b" has no closing'),
    ("a: pink/10\nb: {\n 0:00 a\n}\n", "t.sbg:3", "must start with a relative time"),
    ("a: wave02:200+4/10\n0:00 a\n", "t.sbg:1", "waveform 02 is not defined"),
    ("off:\n0:00 off\n", "t.sbg:1", 'tone-set "off" has no voices'),
    ("-p drop 00zs+\n", "t.sbg:1", 'bad drop spec "00zs+"'),
    ("-p slide 200/1\n", "t.sbg:1", "bad slide spec"),
    ("-F fast\n", "t.sbg:1", '-F "fast": expected the fade time in whole milliseconds'),
])
def test_errors_name_file_line_and_text(text, where, needle):
    with pytest.raises(RecipeError) as exc:
        parse_sbg(text, path="t.sbg")
    assert exc.value.where == where
    assert needle in exc.value.message


def test_unsupported_options_are_warnings_not_errors():
    seq = parse_sbg("-c 80=1,40=2\n-SE\na: pink/15\n0:00 a\n", path="w.sbg")
    assert len(seq.warnings) == 1
    assert seq.warnings[0].startswith("w.sbg:1: -c")


def test_an_amplitude_past_100_is_refused_at_its_line():
    """(It used to pass here and fail later at a line of the generated recipe.)"""
    with pytest.raises(RecipeError, match=r'^w.sbg:3: tone spec "pink/150": amplitude 150 is '
                                          r"above 100; amplitudes are 0-100$"):
        parse_sbg("-c 80=1,40=2\n-SE\na: pink/150\n0:00 a\n", path="w.sbg")


@pytest.mark.parametrize("rate", ["0", "100000000", "44.1k", "-1"])
def test_the_sample_rate_option_is_the_recipes_range(rate):
    with pytest.raises(RecipeError, match=rf'^w.sbg:1: -r "{re.escape(rate)}": '):
        parse_sbg(f"-r {rate}\na: pink/15\n0:00 a\n", path="w.sbg")
    assert parse_sbg("-r 8000\na: pink/15\n0:00 a\n").options.sample_rate == 8000


def test_more_than_16_voices_keeps_16_with_warning():
    seq = parse_sbg("a: " + " ".join(f"{100 + k}/1" for k in range(18)) + "\n0:00 a\n")
    assert len(seq.tonesets["a"].voices) == 16
    assert "18 voices" in seq.warnings[0]


def test_read_fixture_with_blocks_and_bells():
    seq = read_sbg(DATA / "prog-chakras-1.sbg")
    assert seq.options.start_clock_ms == 0
    assert set(seq.blocks) == {"seq1", "seq5", "seq20"}
    ts = seq.tonesets["ts50-4"]
    assert len(ts.voices) == 5 and ts.voices[4] == BellVoice(2050.0, 20.0, line=ts.line,
                                                             spec="bell+2050/20")
    assert seq.description[0] == "From Jim Peters:"
    assert len(seq.timelines) == 6 and seq.timelines[-1].time.absolute_ms == 72_001_000


def test_drop_program_generates_sbagen_numbers():
    seq = parse_sbg("-m river1.ogg -p drop 00ds+ mix/100\n", path="d.sbg")
    assert seq.options.start_at_first and seq.options.end_at_last
    assert seq.options.mix_file == "river1.ogg"
    # slide version: 30 one-minute breakpoints; step 1 at 1800*1//29 = 62 s
    ts01 = seq.tonesets["ts01"].voices
    assert ts01[0].carrier_hz == 204.914 and ts01[0].beat_hz == 9.53321  # 10*exp(ln(0.25)/29), %g-rounded
    assert isinstance(ts01[1], MixVoice) and ts01[1].amp == 100
    times = [tl.time.absolute_ms for tl in seq.timelines]
    assert times[:3] == [86_395_000, 0, 62_000]
    assert times[-2:] == [3_600_000, 3_610_000]          # tsend at 60 min, off 10 s later
    assert seq.tonesets["ts29"].voices[0].beat_hz == 2.5
