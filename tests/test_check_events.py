"""Every layer gives check something to verify: struck bells (their times and pitches) and
SBaGen's -p drop programs (their slide trajectory), each against a wrong render."""
from __future__ import annotations

import textwrap

import pytest

from resonator.check import check_file
from resonator.loading import load
from resonator.recipe import build_session
from resonator.recipe.render import render_recipe

SR = 8000
BELLS = ("-SE\nbells: bell+300/40 pink/10\nb2: bell+{b2}/30 pink/10\nquiet: pink/10\n"
         "00:00:00 bells\n00:00:10 quiet\n00:00:20 b2\n00:00:30 quiet\n00:00:40 bells\n"
         "00:00:50 quiet\n")


def render(recipe, out, **kw):
    render_recipe(recipe, out, sr=SR, normalize=False, bits="32f", force=True, **kw)
    return out


def by_kind(rep, kind):
    return [r for r in rep.results if r.target.kind == kind]


def test_imported_bells_get_strike_times_and_pitches(tmp_path):
    right = tmp_path / "bells.sbg"
    right.write_text(BELLS.format(b2=500))
    recipe = load(right)
    kinds = [t["kind"] for t in build_session(recipe, sr=SR).targets]
    assert kinds.count("bell_strikes") == 1 and kinds.count("bell_pitch") == 2
    rep = check_file(render(recipe, tmp_path / "bells.wav"), recipe=recipe)
    (strikes,) = by_kind(rep, "bell_strikes")
    # the strike at 0:00 sits in the session's start and is not counted; 25 s and 45 s are
    assert strikes.passed and strikes.measured == 2.0
    pitches = {r.target.expected: r for r in by_kind(rep, "bell_pitch")}
    assert set(pitches) == {300.0, 500.0}
    assert all(r.passed and abs(r.measured - f) < 0.02 for f, r in pitches.items())
    # a render whose second bell rings at 510 Hz fails that pitch, measured there
    wrong = tmp_path / "wrong.sbg"
    wrong.write_text(BELLS.format(b2=510))
    rep = check_file(render(load(wrong), tmp_path / "wrong.wav"), recipe=recipe)
    bad = {r.target.expected: r for r in by_kind(rep, "bell_pitch")}
    assert bad[300.0].passed and bad[500.0].passed is False
    assert abs(bad[500.0].measured - 510.0) < 0.05


def test_a_missing_strike_fails(tmp_path):
    p = tmp_path / "bell.toml"
    p.write_text(textwrap.dedent("""
        sample_rate = 8000
        fade_in = "1s"
        fade_out = "1s"
        [[phase]]
        name = "a"
        duration = "20s"
        [[phase]]
        name = "b"
        duration = "20s"
        [[layer]]
        name = "bed"
        kind = "noise"
        gain = "-20 dB"
        [[layer]]
        name = "bell"
        kind = "bell"
        pitch = "330 Hz"
        at = "times"
        times = ["5s", "20s", "30s"]
        decay_s = "4s"
        gain = "-6 dB"
        """))
    recipe = load(p)
    rep = check_file(render(recipe, tmp_path / "bell.wav"), recipe=recipe)
    (strikes,) = by_kind(rep, "bell_strikes")
    (pitch,) = by_kind(rep, "bell_pitch")
    assert strikes.passed and strikes.measured == 3.0
    assert pitch.passed and abs(pitch.measured - 330.0) < 0.05
    p.write_text(p.read_text().replace('"20s", ', ""))
    rep = check_file(render(load(p), tmp_path / "two.wav"), recipe=recipe)
    (strikes,) = by_kind(rep, "bell_strikes")
    assert not strikes.passed and strikes.measured == 2.0
    assert strikes.detail["missed_s"] == [20.0]


def test_a_drop_program_is_checked_along_its_slide(tmp_path):
    """-p drop 00ds: the beat slides from 10 Hz down to 2.5 Hz (the carrier 205 -> 200 Hz)
    over 30 minutes; targets follow the slide. A drop to another level (00fs: 1.5 Hz) is a
    different trajectory and fails there."""
    right = tmp_path / "drop.sbg"
    right.write_text("-p drop 00ds\n")
    recipe = load(right)
    beats = [t for t in build_session(recipe, sr=SR).targets if t["kind"] == "binaural_beat"]
    assert len(beats) > 40
    out = render(recipe, tmp_path / "drop.wav", start="14m", duration="2m")
    rep = check_file(out, recipe=recipe)
    mine = by_kind(rep, "binaural_beat")
    assert len(mine) >= 5 and all(r.passed for r in mine)
    # 10 * (2.5/10)^(15/30) = 5 Hz half way through the slide
    assert any(abs(r.measured - 5.0) < 0.15 for r in mine)
    other = tmp_path / "other.sbg"
    other.write_text("-p drop 00fs\n")
    rep = check_file(render(load(other), tmp_path / "other.wav", start="14m", duration="2m"),
                     recipe=recipe)
    assert [r.passed for r in by_kind(rep, "binaural_beat")].count(False) >= 5
