"""`resonator check` cannot pass what is not there: renders broken on purpose (a layer left
out or silent, a wrong beat, a mono downmix, digital silence) fail the targets of the recipe
they were meant to follow, with the reason; readings the mix is too noisy for are
inconclusive, not skipped; a written phase target clipped into a window render never lands on
the layer's glide into the phase."""
from __future__ import annotations

import shutil
import textwrap

import numpy as np
import pytest
import soundfile as sf

from resonator.check import check_file
from resonator.recipe import render_recipe

RECIPE = textwrap.dedent("""
    title = "three layers"
    sample_rate = 16000
    fade_in = "2s"
    fade_out = "2s"
    [[phase]]
    name = "one"
    duration = "24s"
    [[layer]]
    name = "beat"
    kind = "binaural"
    carrier = "300 Hz"
    beat = "{beat}"
    gain = "{beat_gain}"
    [[layer]]
    name = "iso"
    kind = "isochronic"
    carrier = "500 Hz"
    rate = "10 Hz"
    gain = "{iso_gain}"
    [[layer]]
    name = "bed"
    kind = "noise"
    color = "pink"
    gain = "{bed_gain}"
    """).lstrip()
GOOD = {"beat": "6 Hz", "beat_gain": "-6 dB", "iso_gain": "-10 dB", "bed_gain": "-12 dB"}


def _render(folder, name, **change):
    p = folder / f"{name}.toml"
    p.write_text(RECIPE.format(**dict(GOOD, **change)))
    render_recipe(p, folder / f"{name}.wav", normalize=False)
    return folder / f"{name}.wav"


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    d = tmp_path_factory.mktemp("broken")
    good = _render(d, "good")
    x, sr = sf.read(good, always_2d=True)
    for name, y in (("mono", np.repeat(x.mean(axis=1, keepdims=True), 2, axis=1)),
                    ("zero", np.zeros_like(x)), ("swapped", x[:, ::-1])):
        sf.write(d / f"{name}.wav", y, sr, subtype="PCM_16")
        shutil.copy(d / "good.json", d / f"{name}.json")
    return d


def _results(wav, recipe):
    rep = check_file(wav, recipe)
    return rep, {(r.target.kind, r.target.layer): r for r in rep.results}


def test_the_render_that_follows_the_recipe_passes(renders):
    rep, res = _results(renders / "good.wav", renders / "good.toml")
    assert rep.passed
    for key in (("binaural_beat", "beat"), ("am_rate", "iso"), ("lr_correlation", "bed")):
        assert res[key].status == "pass", res[key].detail
    assert res["binaural_beat", "beat"].measured == pytest.approx(6.0, abs=0.01)


def test_a_silent_layer_fails_as_not_there(renders):
    wav = _render(renders, "silent_beat", beat_gain="-200 dB")
    rep, res = _results(wav, renders / "good.toml")
    assert rep.passed is False
    for kind in ("binaural_beat", "binaural_carrier"):
        r = res[kind, "beat"]
        assert r.status == "fail" and "is not there" in r.detail["error"], r.detail
    assert res["am_rate", "iso"].status == "pass"  # the other layers are still read


def test_a_layer_left_out_fails(renders):
    wav = _render(renders, "no_iso", iso_gain="-200 dB")
    rep, res = _results(wav, renders / "good.toml")
    r = res["am_rate", "iso"]
    assert rep.passed is False and r.status == "fail"
    assert "no modulation stands out" in r.detail["error"]


def test_a_silent_bed_fails_at_the_dither_floor(renders):
    wav = _render(renders, "no_bed", bed_gain="-200 dB")
    rep, res = _results(wav, renders / "good.toml")
    r = res["lr_correlation", "bed"]
    assert rep.passed is False and r.status == "fail"
    assert "dither floor" in r.detail["error"], r.detail


def test_a_wrong_beat_fails_with_the_beat_it_has(renders):
    wav = _render(renders, "beat7", beat="7 Hz")
    rep, res = _results(wav, renders / "good.toml")
    r = res["binaural_beat", "beat"]
    assert rep.passed is False and r.status == "fail"
    assert r.measured == pytest.approx(7.0, abs=0.02)


def test_a_mono_downmix_has_no_binaural_beat(renders):
    rep, res = _results(renders / "mono.wav", renders / "good.toml")
    r = res["binaural_beat", "beat"]
    assert rep.passed is False and r.status == "fail"
    assert "both ears hear both tones" in r.detail["error"]
    assert all(abs(c) < 1.0 for w in r.detail["missing_windows"] for c in w["crosstalk_db"])
    assert res["lr_correlation", "bed"].measured == pytest.approx(1.0, abs=1e-6)


def test_swapped_ears_are_named_as_swapped(renders):
    """L/R exchanged: each ear's tone stands in the other ear. It was reported as the
    left-ear tone 'not there'."""
    rep, res = _results(renders / "swapped.wav", renders / "good.toml")
    assert rep.passed is False
    for kind in ("binaural_beat", "binaural_carrier"):
        r = res[kind, "beat"]
        assert r.status == "fail", r.detail
        assert r.detail["error"] == ("the ears are swapped: layer beat's left-ear tone "
                                     "(303.00 Hz) is in the right ear and its right-ear tone "
                                     "(297.00 Hz) in the left (the beat's sign is reversed)")
    assert res["am_rate", "iso"].status == "pass"


def test_digital_silence_fails_every_layer_target(renders):
    rep, res = _results(renders / "zero.wav", renders / "good.toml")
    layer_bound = [r for (kind, layer), r in res.items() if layer is not None]
    assert len(layer_bound) >= 5
    assert all(r.status == "fail" for r in layer_bound), \
        [(r.target.kind, r.status, r.detail) for r in layer_bound if r.status != "fail"]
    assert rep.passed is False


def test_splatter_in_a_noisy_mix_is_inconclusive_with_the_floor(renders):
    rep, res = _results(renders / "good.wav", renders / "good.toml")
    r = res["splatter", "iso"]
    assert r.status == "inconclusive" and r.passed is None
    assert "too noisy to tell" in r.detail["inconclusive"] and "floor_db" in r.detail
    assert not any(t.kind == "splatter" for t, _ in rep.skipped)


GLIDE = textwrap.dedent("""
    title = "glide"
    sample_rate = 16000
    [[phase]]
    name = "fast"
    duration = "30s"
    [[phase]]
    name = "slow"
    duration = "40s"
    [[layer]]
    name = "pulse"
    kind = "isochronic"
    carrier = "400 Hz"
    rate = { fast = "8 Hz", slow = "4 Hz", glide = "12s" }
    [[target]]
    kind = "am_rate"
    layer = "pulse"
    window = "slow"
    expected = "4 Hz"
    tolerance = "0.05 Hz"
    """).lstrip()


@pytest.mark.parametrize("start,measured", [("26s", False), ("36s", True)])
def test_a_window_never_checks_a_phase_value_on_the_glide_into_it(tmp_path, start, measured):
    # the rate glides 8 -> 4 Hz over 30-42 s: a window of 26-40 s holds only glide of phase
    # "slow" (skipped, saying so), one of 36-56 s is read from 42 s on (file time 6 s)
    rec = tmp_path / "glide.toml"
    rec.write_text(GLIDE)
    wav = tmp_path / "w.wav"
    render_recipe(rec, wav, start=start, duration="14s" if not measured else "20s",
                  normalize=False)
    rep = check_file(wav)
    written = [r for r in rep.results if r.target.source == "recipe"]
    if measured:
        (r,) = written
        assert r.status == "pass" and r.target.start_s == pytest.approx(6.0)
        assert r.measured == pytest.approx(4.0, abs=0.05)
        assert r.target.params["glide_left_out"] == (30.0, 42.0)
    else:
        assert not written
        why = [w for t, w in rep.skipped if t.source == "recipe"]
        assert why == ["the rendered window holds only layer pulse's glide into phase slow "
                       "(30s-42s); the expected value holds from 42s"]


BREATH = textwrap.dedent("""
    title = "breath"
    sample_rate = 16000
    fade_in = "2s"
    fade_out = "2s"
    [[phase]]
    name = "breathe"
    duration = "70s"
    [[layer]]
    name = "breath"
    kind = "breath"
    rate = "6/min"
    root = "110 Hz"
    gain = "{gain}"
    [[layer]]
    name = "bed"
    kind = "noise"
    color = "pink"
    lowpass = "1200 Hz"
    gain = "-30 dB"
    [[target]]
    kind = "breath_rate"
    layer = "breath"
    window = "breathe"
    expected = "6/min"
    """).lstrip()


def test_a_silent_breath_fails_by_its_level_against_the_plan(tmp_path):
    # the written breath_rate target is also implied by the layer: measured once; with the
    # breath left silent, the noise's envelope reads some rate, but the band the breath is
    # read in holds the bed alone, 18 dB under the plan: the layer is not there
    rec = tmp_path / "breath.toml"
    rec.write_text(BREATH.format(gain="-12 dB"))
    (tmp_path / "silent.toml").write_text(BREATH.format(gain="-200 dB"))
    for name in ("breath", "silent"):
        render_recipe(tmp_path / f"{name}.toml", tmp_path / f"{name}.wav", normalize=False)
    for name, status in (("breath", "pass"), ("silent", "fail")):
        rep = check_file(tmp_path / f"{name}.wav", rec)
        (r,) = [r for r in rep.results if r.target.kind == "breath_rate"]
        assert r.status == status, r.detail
    assert "the layer is not there" in r.detail["error"]
    assert "the plan puts there (with the render's +0.0 dB gain)" in r.detail["error"]
