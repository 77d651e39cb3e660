"""Known-answer tests for resolving .sbg sequences into timelines (resonator.sbg.resolve).

Expected breakpoints are computed by hand from SBaGen 1.4.5's rules (see the resolve module
docstring): a change is spread over the fade time (60 s) centred on the later line's time;
different pitches under "-" dip through silence at the midpoint; "==" glides; "->" makes the
whole period a slide.
"""
from pathlib import Path

import pytest

from resonator.errors import RecipeError
from resonator.sbg import parse_sbg, read_sbg, resolve

DATA = Path(__file__).parent / "data" / "sbg"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "sbg"

SETS = "a: 200+10/10\nb: 200+4/10\nc: 300+4/20\noff: -\n"


def pts(span):
    return [(p.t_s, p.a, p.b, p.amp) for p in span.points]


def tl_of(text, **kw):
    return resolve(parse_sbg(text, path="t.sbg"), **kw)


def test_crossfade_of_different_pitch_dips_through_silence_centred_on_change():
    tl = tl_of("-SE\n" + SETS + "00:00 a\n00:10 b\n00:20 off\n")
    assert tl.duration_s == 1200.0
    first, second = tl.slot_spans(0)
    assert pts(first) == [(0, 200, 10, 0), (30, 200, 10, 10), (570, 200, 10, 10),
                          (600, 200, 10, 0)]
    assert first.kinds == ["fade_in", "hold", "fade_out"]
    assert pts(second) == [(600, 200, 4, 0), (630, 200, 4, 10), (1170, 200, 4, 10),
                           (1200, 200, 4, 0)]
    t = tl.transitions[1]
    assert (t.start_s, t.mid_s, t.end_s, t.mode, t.slots) == (570, 600, 630, "crossfade",
                                                              ("through_silence",))


def test_same_pitch_keeps_playing_and_levels_crossfade():
    tl = tl_of("-SE\nx: pink/40 200+10/10\ny: pink/20 200+10/20\noff: -\n"
               "00:00 x\n00:10 y\n00:20 off\n")
    (noise,) = tl.slot_spans(0)
    (tone,) = tl.slot_spans(1)
    assert pts(noise)[1:4] == [(30, 0, 0, 40), (570, 0, 0, 40), (630, 0, 0, 20)]
    assert pts(tone)[2:4] == [(570, 200, 10, 10), (630, 200, 10, 20)]
    assert tone.kinds[2] == "level"


def test_double_equals_glides_frequency_over_the_fade():
    tl = tl_of("-SE\n" + SETS + "00:00 == a\n00:10 == c\n00:20 off\n")
    (span,) = tl.slot_spans(0)
    assert pts(span)[2:4] == [(570, 200, 10, 10), (630, 300, 4, 20)]
    assert span.kinds[2] == "slide"
    assert span.at(600.0).a == 250.0 and span.at(600.0).b == 7.0 and span.at(600).amp == 15.0


def test_arrow_makes_the_whole_period_a_slide():
    tl = tl_of("-SE\n" + SETS + "00:00 a ->\n00:10 c ->\n00:20 off\n")
    (span,) = tl.slot_spans(0)
    # starts at full level (the fade-in from silence ends at time 0), slides for 600 s, then
    # fades out at c's frequency while the level goes to 0 (off under ->).
    assert pts(span) == [(0, 200, 10, 10), (600, 300, 4, 20), (1200, 300, 4, 0)]
    assert span.kinds == ["slide", "fade_out"]


def test_fade_marks_force_silence_even_for_identical_tones():
    tl = tl_of("-SE\n" + SETS + "00:00 a\n00:10 <- a\n00:20 off\n")
    spans = tl.slot_spans(0)
    assert len(spans) == 2
    assert pts(spans[0])[-1] == (600, 200, 10, 0) and pts(spans[1])[0] == (600, 200, 10, 0)
    assert tl.transitions[1].mode == "silence"


def test_fade_time_option_sets_the_window():
    tl = tl_of("-SE -F 10000\n" + SETS + "00:00 a\n00:10 b\n00:20 off\n")
    t = tl.transitions[1]
    assert (t.start_s, t.mid_s, t.end_s) == (595, 600, 605)
    assert pts(tl.slot_spans(0)[0])[:2] == [(0, 200, 10, 0), (5, 200, 10, 10)]


def test_short_periods_clip_the_fade():
    # a lasts 20 s: the a->b change at 20 s can only start at 0 s; the fade into a cannot
    # extend past 0 (a's length is used up), so a starts at full level.
    tl = tl_of("-SE\n" + SETS + "00:00:00 a\n00:00:20 b\n00:10 off\n")
    # (the fade into a, from -30 s to 0 s, lies wholly before the render and is not listed)
    t = tl.transitions[0]
    assert (t.start_s, t.mid_s, t.end_s) == (0, 25, 50)
    first = tl.slot_spans(0)[0]
    assert pts(first) == [(0, 200, 10, 10), (25, 200, 10, 0)]


def test_clock_times_wrap_past_midnight():
    tl = tl_of("-SE\n" + SETS + "23:59:00 a\n00:01:00 off\n")
    assert tl.duration_s == 120.0
    assert tl.periods[0].clock_ms == 86_340_000 and tl.periods[0].end_s == 120.0


def test_now_and_relative_times_and_blocks():
    tl = tl_of("-SE\n" + SETS + "blk: {\n +0:00 a\n +0:05 b\n}\n"
               "NOW blk\n+0:10 blk\n+0:20 off\n")
    assert [(p.toneset, p.start_s) for p in tl.periods] == [("a", 0), ("b", 300), ("a", 600),
                                                             ("b", 900)]
    assert tl.duration_s == 1200.0


def test_bells_ring_at_change_times():
    tl = tl_of("-SE\nx: 100+1.5/30 bell+2050/20\ny: 100+1.5/30 bell+3000/10\noff: -\n"
               "00:00 x\n00:03 y\n00:06 off\n")
    assert [(b.t_s, b.slot, b.freq_hz, b.amp) for b in tl.bells] == [(0, 1, 2050, 20),
                                                                    (180, 1, 3000, 10)]
    assert tl.slot_spans(1) == []          # bells are events, not continuous voices
    (tone,) = tl.slot_spans(0)             # same tone in x and y: keeps playing
    assert pts(tone) == [(0, 100, 1.5, 0), (30, 100, 1.5, 30), (330, 100, 1.5, 30),
                         (360, 100, 1.5, 0)]


def test_end_rules_without_E():
    single = tl_of(SETS + "00:00 a\n")
    assert single.duration_s == 1800.0 and single.periods[0].end_s == 1800.0
    assert any("held for 1800 s" in n for n in single.notes)
    ends_off = tl_of(SETS + "00:00 a\n00:10 off\n")
    assert ends_off.duration_s == 600.0
    limited = tl_of("-L 0:15\n" + SETS + "00:00 a\n")
    assert limited.duration_s == 900.0
    assert pts(limited.slot_spans(0)[0])[-1] == (900, 200, 10, 10)


def test_T_inside_schedule_moves_the_start():
    tl = tl_of("-T 00:05 -E\n" + SETS + "00:00 a\n00:10 b\n00:20 off\n")
    assert tl.duration_s == 900.0
    first = tl.slot_spans(0)[0]
    assert pts(first)[0] == (0, 200, 10, 10) and pts(first)[-1] == (300, 200, 10, 0)


def test_times_out_of_order_are_an_error():
    with pytest.raises(RecipeError) as exc:
        tl_of(SETS + "10:00 a\n09:00 b\n11:00 a\n")
    assert exc.value.where == "t.sbg" and "more than 24 hours" in exc.value.message
    assert "10:00:00 -> 09:00:00 (line 6)" in exc.value.message


def test_relative_time_needs_an_absolute_one():
    with pytest.raises(RecipeError) as exc:
        tl_of(SETS + "+00:10 a\n")
    assert exc.value.where == "t.sbg:5"


def test_unsupported_voice_is_warned_and_rest_resolves():
    tl = tl_of("-SE -m r.ogg\nx: mix/80 mixspin:400+6/40 200+8/10\noff: -\n00:00 x\n00:10 off\n")
    assert len(tl.warnings) == 1 and "mixspin" in tl.warnings[0]
    assert tl.slot_spans(1) == [] and len(tl.slot_spans(2)) == 1
    assert tl.mix_file == "r.ogg" and tl.mix_always_amp is None


def test_slide_program():
    tl = tl_of("-m river1.ogg -p slide 200+10/1 mix/100\n")
    assert tl.duration_s == 1815.0
    assert pts(tl.slot_spans(0)[0]) == [(0, 200, 10, 0), (5, 200, 10, 1), (1805, 5, 10, 1),
                                        (1815, 5, 10, 0)]
    assert pts(tl.slot_spans(1)[0])[1] == (5, 0, 0, 100)


def test_fixture_einstein():
    tl = resolve(read_sbg(DATA / "ch-einstein.sbg"))
    assert tl.duration_s == 930.0 and tl.slots == 3
    assert pts(tl.slot_spans(0)[0]) == [(0, 0, 0, 0), (15, 0, 0, 80), (900, 0, 0, 80),
                                        (930, 0, 0, 0)]
    span = tl.slot_spans(1)[0]
    assert (span.voice.left_hz, span.voice.right_hz) == (340.0, 380.0)   # 360-40
    assert pts(span)[1] == (15, 360, -40, 6)


def test_fixture_isochronic_creativity_boost():
    tl = resolve(read_sbg(DATA / "creativity-boost.sbg"))
    assert tl.duration_s == 2400.0
    iso = tl.slot_spans(2)
    assert iso[0].kind == "isochronic"
    # ts-relax (no slot 2) -> ts-creative over 09:00-10:00 under ->: fades in at 300 Hz / 6 Hz
    assert pts(iso[0])[:2] == [(540, 300, 6, 0), (600, 300, 6, 10)]


def test_fixture_chakras_24_hour_clock():
    tl = resolve(read_sbg(DATA / "prog-chakras-1.sbg"))
    # from 00:00:01 to the last line (23:57:01) plus its 3 minutes until 00:00:01 comes round
    assert tl.duration_s == 86400.0
    assert len(tl.periods) == 480 and len(tl.bells) == 480
    assert [(b.t_s, b.freq_hz) for b in tl.bells[:2]] == [(0, 2050), (180, 2050)]
    assert any("-T 00:00:00 is outside the schedule" in n for n in tl.notes)


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/sbg fixtures not beside the repository")
def test_all_35_shared_fixtures_resolve_without_warnings():
    files = sorted(SHARED.rglob("*.sbg"))
    assert len(files) == 35
    for f in files:
        tl = resolve(read_sbg(f))
        assert tl.duration_s > 0 and tl.spans, f.name
        assert tl.warnings == [], (f.name, tl.warnings)
        for sp in tl.spans:
            ts = [p.t_s for p in sp.points]
            assert ts == sorted(ts) and 0 <= ts[0] and ts[-1] <= tl.duration_s, f.name
